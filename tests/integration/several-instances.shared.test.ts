import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../generated/graphql";
import { createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { loginUser, registerUser } from "../support/fixtures";
import { freePort } from "../support/own-redis";
import { startServerProcess, type ServerProcess } from "../support/server-process";

/**
 * The README's recipe for several instances, followed as written: the same DATABASE_URL,
 * REDIS_URL and signing key (a key file), each process on its own port with its own data
 * directory and nothing else configured. A token issued by one is accepted by the other.
 */
let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
let root: string;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  database = await createPostgresDatabase();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "ais-instances-"));
  const keyFile = path.join(root, "signing-key.pem");
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  fs.writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const shared = { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: uniqueRedisPrefix(), JWT_PRIVATE_KEY_FILE: keyFile, BCRYPT_COST: "4" };
  const [portA, portB] = [await freePort(), await freePort()];
  a = await startServerProcess({ ...shared, PORT: String(portA), DATA_DIR: path.join(root, "a") });
  b = await startServerProcess({ ...shared, PORT: String(portB), DATA_DIR: path.join(root, "b") });
  expect(a.url).not.toBe(b.url);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("instances on different ports, one deployment", () => {
  it("accept each other's access tokens", async () => {
    const user = await registerUser(a.client);
    expect((await b.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);
    const login = await loginUser(b.client, user.user.email);
    expect((await a.client.ok(MeDocument, {}, { token: login.accessToken })).me?.id).toBe(user.user.id);
  });
});
