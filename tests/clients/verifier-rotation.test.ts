import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier, InvalidTokenError, VerifierUnavailableError } from "../../clients/verifier/src";
import { BACKEND, createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { loginUser, registerUser } from "../support/fixtures";
import { addKey, kidOf } from "../support/key-files";
import { startServerProcess, type ServerProcess } from "../support/server-process";

/**
 * The verifier through a signing-key rotation done as the README says, on a server process
 * restarted on the same port and data: a key the verifier has not seen yet is fetched when a
 * token names it, tokens signed by the old key keep verifying while it is published, and once
 * it is removed the next fetch forgets it. While the server is down, nothing new is decided.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-verifier-rotation-"));
const keysDir = path.join(dataDir, "jwt-keys");
const env: Record<string, string> = { DATA_DIR: dataDir, JWT_KEYS_DIR: keysDir, BCRYPT_COST: "4", MFA_REQUIRED_ROLES: "none", RATE_LIMIT_SCALE: "1000" };
let dropDatabase: () => Promise<void> = async () => undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  fs.mkdirSync(keysDir, { mode: 0o700 });
  if (BACKEND === "postgres") {
    const database = await createPostgresDatabase();
    dropDatabase = database.drop;
    Object.assign(env, { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: uniqueRedisPrefix() });
  }
});
afterAll(async () => {
  await server?.stop();
  await dropDatabase();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).reason;
}

describe("the verifier through a key rotation", () => {
  it("follows the server from the old key to the new one without refusing a live token", { timeout: 150_000 }, async () => {
    const oldKeyFile = addKey(keysDir, new Date(Date.UTC(2020, 0, 1)));
    server = await startServerProcess(env, 60_000);
    const port = new URL(server.url).port;
    const user = await registerUser(server.client);

    let skewMs = 0;
    const jwksFetches: string[] = [];
    const verifier = createTokenVerifier({
      url: server.url,
      issuer: "agent-identity",
      audience: "agent-identity",
      jwksMaxAgeMs: 60_000,
      jwksMinRefetchMs: 1_000,
      now: () => Date.now() + skewMs,
      fetch: (input, init) => {
        jwksFetches.push(String(input));
        return fetch(input, init);
      },
    });
    expect(await verifier.verify(user.accessToken)).toMatchObject({ subject: user.user.id });
    expect(jwksFetches).toHaveLength(1);

    // While the server restarts, a verifier that has no keys yet cannot decide: 503, not 401.
    await server.stop();
    const cold = createTokenVerifier({ url: server.url, issuer: "agent-identity", audience: "agent-identity" });
    await expect(cold.verify(user.accessToken)).rejects.toBeInstanceOf(VerifierUnavailableError);
    // One that has them goes on verifying what it knows.
    expect(await verifier.verify(user.accessToken)).toMatchObject({ subject: user.user.id });

    // The new key is deployed and (its instant being past) signs.
    addKey(keysDir, new Date(Date.UTC(2021, 0, 1)));
    server = await startServerProcess({ ...env, PORT: port }, 60_000);
    const again = await loginUser(server.client, user.user.email, user.password);
    expect(kidOf(again.accessToken)).not.toBe(kidOf(user.accessToken));
    skewMs += 1_000; // past jwksMinRefetchMs
    expect(await verifier.verify(again.accessToken)).toMatchObject({ subject: user.user.id });
    expect(jwksFetches).toHaveLength(2);
    expect(await verifier.verify(user.accessToken)).toMatchObject({ subject: user.user.id });
    expect(jwksFetches).toHaveLength(2);

    // The old key is removed (after the access-token lifetime); the next fetch forgets it.
    await server.stop();
    fs.rmSync(oldKeyFile);
    server = await startServerProcess({ ...env, PORT: port }, 60_000);
    skewMs += 60_000;
    expect(await reason(verifier.verify(user.accessToken))).toBe("unknown_key");
    expect(await verifier.verify(again.accessToken)).toMatchObject({ subject: user.user.id });
    expect(jwksFetches).toHaveLength(3);
  });
});
