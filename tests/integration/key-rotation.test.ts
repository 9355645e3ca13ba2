import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument, RefreshDocument } from "../generated/graphql";
import { BACKEND, createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { addKey, kidOf } from "../support/key-files";
import { ManualClock } from "../support/manual-clock";
import { startServerProcess } from "../support/server-process";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Signing-key rotation without logging anyone out: a new key is added ahead of the instant
 * its file name gives, becomes the signer at that instant (no restart), and the old key keeps
 * verifying what it signed until it is removed.
 */
const jwks = async (url: string) => ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);

describe("a new key becomes the signer at its named instant", () => {
  // Five seconds before the new key's instant, inside the 10 s refresh grace window.
  const switchAt = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
  const clock = new ManualClock(switchAt.getTime() - 5_000);
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-keys-"));
  let oldKid: string;
  let newKid: string;
  let server: TestServer;
  beforeAll(async () => {
    addKey(keysDir, new Date(Date.UTC(2026, 0, 1)));
    addKey(keysDir, switchAt);
    server = await startTestServer({ clock, env: { JWT_KEYS_DIR: keysDir, REFRESH_REUSE_GRACE: "10s", ACCESS_TOKEN_TTL: "15m" } });
    [oldKid, newKid] = server.app.keys.all.map((key) => key.kid) as [string, string];
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(keysDir, { recursive: true, force: true });
  });

  it("publishes both keys ahead of the switch, signs with the old one until it, then with the new one", async () => {
    expect(await jwks(server.url)).toEqual([oldKid, newKid]);
    const before = await registerUser(server.client);
    expect(kidOf(before.accessToken)).toBe(oldKid);

    clock.advance(5_000);
    const refreshed = (await server.client.ok(RefreshDocument, { refreshToken: before.refreshToken })).refresh;
    expect(kidOf(refreshed.accessToken)).toBe(newKid);
    // The token signed before the switch still counts, until it expires.
    expect((await server.client.ok(MeDocument, {}, { token: before.accessToken })).me?.id).toBe(before.user.id);
    // Past the first token's expiry (issued 5 s before the switch), not the second's.
    clock.advance(15 * 60_000 - 3_000);
    expect(errorCode(await server.client.request(MeDocument, {}, { token: before.accessToken }))).toBe("UNAUTHENTICATED");
    expect((await server.client.ok(MeDocument, {}, { token: refreshed.accessToken })).me?.id).toBe(before.user.id);
  });

  it("gives a refresh retried across the switch the successor derived before it (no reuse alarm)", async () => {
    const late = new ManualClock(switchAt.getTime() - 5_000);
    const other = await startTestServer({ clock: late, env: { JWT_KEYS_DIR: keysDir, REFRESH_REUSE_GRACE: "10s" } });
    try {
      const start = await registerUser(other.client);
      const first = (await other.client.ok(RefreshDocument, { refreshToken: start.refreshToken })).refresh;
      // The other tab's copy of the same token arrives after the switch, inside the grace window.
      late.advance(6_000);
      const retry = (await other.client.ok(RefreshDocument, { refreshToken: start.refreshToken })).refresh;
      expect(retry.refreshToken).toBe(first.refreshToken);
      expect(kidOf(retry.accessToken)).toBe(newKid);
      // The chain goes on under the new key, and a retry of that step gets its successor too.
      const next = (await other.client.ok(RefreshDocument, { refreshToken: first.refreshToken })).refresh;
      late.advance(1_000);
      expect((await other.client.ok(RefreshDocument, { refreshToken: first.refreshToken })).refresh.refreshToken).toBe(next.refreshToken);
      expect((await other.client.ok(MeDocument, {}, { token: next.accessToken })).me?.id).toBe(start.user.id);
    } finally {
      await other.close();
    }
  });
});

describe("the rotation procedure across restarts", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-rotation-"));
  const keysDir = path.join(dataDir, "jwt-keys");
  const env: Record<string, string> = { DATA_DIR: dataDir, JWT_KEYS_DIR: keysDir, BCRYPT_COST: "4", MFA_REQUIRED_ROLES: "none", RATE_LIMIT_SCALE: "1000" };
  let dropDatabase: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    fs.mkdirSync(keysDir, { mode: 0o700 });
    if (BACKEND === "postgres") {
      const database = await createPostgresDatabase();
      dropDatabase = database.drop;
      Object.assign(env, { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: uniqueRedisPrefix() });
    }
  });
  afterAll(async () => {
    await dropDatabase();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps sessions and unexpired tokens through add, switch and removal of a key", { timeout: 120_000 }, async () => {
    const oldFile = addKey(keysDir, new Date(Date.UTC(2020, 0, 1)));
    let server = await startServerProcess(env, 60_000);
    const user = await registerUser(server.client);
    const [oldKid] = await jwks(server.url);
    await server.stop();

    // Step 1-3: the new key is deployed; its instant (already past here) makes it the signer.
    addKey(keysDir, new Date(Date.UTC(2021, 0, 1)));
    server = await startServerProcess(env, 60_000);
    const published = await jwks(server.url);
    expect(published).toHaveLength(2);
    expect((await server.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);
    const rotated = (await server.client.ok(RefreshDocument, { refreshToken: user.refreshToken })).refresh;
    const newKid = kidOf(rotated.accessToken);
    expect(newKid).not.toBe(oldKid);
    expect(published).toEqual([oldKid, newKid]);
    await server.stop();

    // Step 5: the old key is removed; what it signed is refused, the session goes on.
    fs.rmSync(oldFile);
    server = await startServerProcess(env, 60_000);
    try {
      expect(await jwks(server.url)).toEqual([newKid]);
      expect(errorCode(await server.client.request(MeDocument, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
      expect((await server.client.ok(MeDocument, {}, { token: rotated.accessToken })).me?.id).toBe(user.user.id);
      const again = (await server.client.ok(RefreshDocument, { refreshToken: rotated.refreshToken })).refresh;
      expect(kidOf(again.accessToken)).toBe(newKid);
    } finally {
      await server.stop();
    }
  });

  it("refuses to start on a misnamed key file, saying how to name it", { timeout: 60_000 }, async () => {
    fs.writeFileSync(path.join(keysDir, "next.pem"), "");
    try {
      await expect(startServerProcess(env, 60_000)).rejects.toThrow(/JWT_KEYS_DIR: "next.pem" is not a key file name/);
    } finally {
      fs.rmSync(path.join(keysDir, "next.pem"));
    }
  });
});
