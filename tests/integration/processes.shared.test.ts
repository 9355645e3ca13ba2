import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../src/paths";
import { LoginDocument, LogoutDocument, MeDocument, RefreshDocument } from "../generated/graphql";
import { createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startServerProcess, type ServerProcess } from "../support/server-process";

/**
 * Two server processes on one PostgreSQL and one Redis must act as one server. Both start
 * at once against an empty database: migrations and the bootstrap admin must not race.
 */
let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
let dataDir: string;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  database = await createPostgresDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-mp-"));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    DATA_DIR: dataDir,
    BCRYPT_COST: "4",
    REFRESH_REUSE_GRACE: "0s",
    BOOTSTRAP_ADMIN_EMAIL: "first-admin@example.com",
    BOOTSTRAP_ADMIN_PASSWORD: "first-admin-password",
  };
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("several processes, one server", () => {
  it("migrated once and created exactly one bootstrap admin", async () => {
    const sql = postgres(database.url, { max: 1 });
    try {
      const admins = await sql`SELECT count(*)::int AS n FROM user_roles WHERE role_name = 'ADMIN'`;
      expect(admins[0]?.n).toBe(1);
      const migrations = await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
      expect(migrations[0]?.n).toBe(fs.readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length);
    } finally {
      await sql.end();
    }
  });

  it("accepts a token issued by one process on the other", async () => {
    const user = await registerUser(a.client);
    expect((await b.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);
    const login = await loginUser(b.client, user.user.email);
    expect((await a.client.ok(MeDocument, {}, { token: login.accessToken })).me?.id).toBe(user.user.id);
  });

  it("refuses an access token on the very next request after logout on the other process", async () => {
    const user = await registerUser(a.client);
    // Warm process B's principal cache first, so the test proves invalidation, not a cold read.
    for (let i = 0; i < 3; i += 1) await b.client.ok(MeDocument, {}, { token: user.accessToken });
    expect((await a.client.ok(LogoutDocument, {}, { token: user.accessToken })).logout).toBe(true);
    expect(errorCode(await b.client.request(MeDocument, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await a.client.request(MeDocument, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
  });

  it("detects a replayed refresh token on the other process and ends the session everywhere", async () => {
    const user = await registerUser(a.client);
    const rotated = await a.client.ok(RefreshDocument, { refreshToken: user.refreshToken });
    await a.client.ok(MeDocument, {}, { token: rotated.refresh.accessToken });
    const replay = await b.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(errorCode(replay)).toBe("UNAUTHENTICATED");
    expect(errorCode(await a.client.request(MeDocument, {}, { token: rotated.refresh.accessToken }))).toBe("UNAUTHENTICATED");
  });

  it("refuses a revoked agent key on the very next request on the other process", async () => {
    const owner = await registerUser(a.client);
    const agent = await a.client.ok<{ createAgent: { id: string } }, unknown>(`mutation { createAgent(input: { name: "bot" }) { id } }`, {}, { token: owner.accessToken });
    const created = await a.client.ok<{ createAgentApiKey: { key: string; apiKey: { id: string } } }, unknown>(
      `mutation ($id: ID!) { createAgentApiKey(agentId: $id) { key apiKey { id } } }`,
      { id: agent.createAgent.id },
      { token: owner.accessToken },
    );
    const key = created.createAgentApiKey.key;
    for (let i = 0; i < 3; i += 1) await b.client.ok(`{ currentAgent { id } }`, {}, { token: key });
    await a.client.ok(`mutation ($id: ID!) { revokeAgentApiKey(id: $id) }`, { id: created.createAgentApiKey.apiKey.id }, { token: owner.accessToken });
    expect(errorCode(await b.client.request(`{ currentAgent { id } }`, {}, { token: key }))).toBe("UNAUTHENTICATED");
  });

  it("holds rate limits exactly when both processes are hit at once", async () => {
    const email = "limit-target@example.com";
    const query = `mutation ($email: String!) { requestPasswordReset(email: $email) }`;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).client.request<{ requestPasswordReset: boolean }, unknown>(query, { email })),
    );
    const allowed = results.filter((result) => result.data?.requestPasswordReset === true).length;
    const limited = results.filter((result) => errorCode(result) === "RATE_LIMITED").length;
    expect(allowed).toBe(3);
    expect(limited).toBe(37);
  });

  it("stops gracefully on SIGTERM while the other process keeps serving", async () => {
    const user = await registerUser(b.client);
    const inFlight = a.client.request(LoginDocument, { input: { identifier: user.user.email, password: user.password } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exitCode = a.stop();
    const answered = await inFlight.catch((error: unknown) => error);
    expect(await exitCode).toBe(0);
    expect(answered).toHaveProperty("data.login.__typename", "AuthPayload");
    expect((await b.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);
  });
});
