import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { LoginDocument, MeDocument, RefreshDocument, RegisterDocument, RequestPasswordResetDocument } from "../generated/graphql";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import type { GraphQLResponse } from "../support/graphql-client";
import { expectUnavailable, within } from "../support/outage";
import { startOwnRedis, type OwnRedis } from "../support/own-redis";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Redis down (killed) or unresponsive (SIGSTOP): every field that needs it answers
 * SERVICE_UNAVAILABLE within the configured bound (REDIS_TIMEOUT, here 500 ms; the client
 * allows 5 s before calling it a hang), `/readyz` says which dependency and why, nothing is
 * written half-way, and the same server serves again once Redis is back, without a restart.
 */
const REDIS_TIMEOUT_MS = 500;
const HANG_MS = 5_000;
const TOKEN_STATUS = `query ($token: String!) { tokenStatus(token: $token) { active subject } }`;

let redis: OwnRedis;
let server: TestServer;
let user: Awaited<ReturnType<typeof registerUser>>;
/** Every answer time during an outage, for the report at the end. */
const timings: Record<string, number> = {};

beforeAll(async () => {
  redis = await startOwnRedis();
  server = await startTestServer({ redisUrl: redis.url, env: { REDIS_TIMEOUT: `${REDIS_TIMEOUT_MS}ms` } });
  user = await registerUser(server.client);
});

afterAll(async () => {
  redis?.resume();
  await server?.close();
  await redis?.stop();
});

async function timed(label: string, request: Promise<GraphQLResponse<unknown>>): Promise<GraphQLResponse<unknown>> {
  const { value, tookMs } = await within(HANG_MS, label, request);
  timings[label] = tookMs;
  return value;
}

/** Every public and authenticated entry point that touches Redis, each expected to refuse. */
async function expectEveryPathUnavailable(phase: string, email: string): Promise<void> {
  const { client } = server;
  expectUnavailable(await timed(`${phase} login`, client.request(LoginDocument, { input: { identifier: user.user.email, password: PASSWORD } })), "login");
  expectUnavailable(await timed(`${phase} register`, client.request(RegisterDocument, { input: { email, password: PASSWORD } })), "register");
  expectUnavailable(await timed(`${phase} refresh`, client.request(RefreshDocument, { refreshToken: user.refreshToken })), "refresh");
  expectUnavailable(await timed(`${phase} requestPasswordReset`, client.request(RequestPasswordResetDocument, { email: user.user.email })), "requestPasswordReset");
  expectUnavailable(await timed(`${phase} tokenStatus`, client.request(TOKEN_STATUS, { token: user.accessToken })), "tokenStatus");
  expectUnavailable(await timed(`${phase} me`, client.request(MeDocument, {}, { token: user.accessToken })), "me");
}

async function readyz(): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const response = await within(HANG_MS, "readyz", fetch(`${server.url}/readyz`));
  return { status: response.value.status, body: (await response.value.json()) as { status: string; checks: Record<string, string> } };
}

async function emailExists(email: string): Promise<boolean> {
  const rows = (await server.app.database.db.execute(sql`SELECT 1 FROM users WHERE lower(email) = lower(${email})`)) as unknown as unknown[];
  return rows.length > 0;
}

/** The server serves again: sign-in, registration of the address refused during the outage. */
async function expectRecovered(email: string): Promise<void> {
  // ioredis reconnects on its own (attempts at most a second apart): wait for it, no restart.
  const deadline = Date.now() + 10_000;
  while ((await readyz()).status !== 200) {
    if (Date.now() > deadline) throw new Error("the server did not reconnect to Redis within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const again = await loginUser(server.client, user.user.email);
  expect((await server.client.ok(MeDocument, {}, { token: again.accessToken })).me?.id).toBe(user.user.id);
  const registered = await registerUser(server.client, { email });
  expect(registered.user.email).toBe(email);
  user = { ...user, ...again };
}

describe("Redis down", () => {
  it("answers SERVICE_UNAVAILABLE on every path, writes nothing, and recovers once Redis is back", async () => {
    const email = uniqueEmail("during-redis-down");
    await redis.kill();
    await expectEveryPathUnavailable("killed", email);
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ database: "ok", redis: "unreachable" });
    expect(await emailExists(email)).toBe(false);

    await redis.restart();
    await expectRecovered(email);
  });
});

describe("Redis unresponsive", () => {
  it("answers SERVICE_UNAVAILABLE within the bound instead of hanging, and recovers once Redis answers", async () => {
    const email = uniqueEmail("during-redis-pause");
    redis.pause();
    try {
      await expectEveryPathUnavailable("paused", email);
      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toEqual({ database: "ok", redis: "timeout" });
      expect(await emailExists(email)).toBe(false);
    } finally {
      redis.resume();
    }
    await expectRecovered(email);
    process.stderr.write(`redis outage answer times (ms): ${JSON.stringify(timings)}\n`);
  });
});
