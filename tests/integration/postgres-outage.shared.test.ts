import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, spendCounters } from "../../src/db/schema";
import {
  CancelAgentActionDocument,
  LoginDocument,
  RegisterDocument,
  SettleAgentActionDocument,
  SubmitAgentActionDocument,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { ADMIN_DATABASE_URL } from "../support/backend";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import type { GraphQLResponse } from "../support/graphql-client";
import { expectUnavailable, openDatabaseSwitch, within, type DatabaseSwitch } from "../support/outage";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * PostgreSQL refusing connections, terminating them, or too slow: every field answers
 * SERVICE_UNAVAILABLE (not INTERNAL) within a bound, writes nothing half-way, and the same
 * server serves again once the database does. Only the test's own database is touched.
 */
const HANG_MS = 10_000;
const USERS = `query { users(first: 5) { totalCount edges { node { id } } } }`;

let server: TestServer;
/** The server's own database, broken and mended by the tests; its checker counts what was written. */
let database: DatabaseSwitch;
let admin: Awaited<ReturnType<typeof loginUser>>;
let agent: AgentWithKey;
const timings: Record<string, number> = {};

beforeAll(async () => {
  // A short statement timeout, so the slow-database case below is quick to provoke.
  server = await startTestServer({ env: { DATABASE_STATEMENT_TIMEOUT: "1s", DATABASE_CONNECT_TIMEOUT: "2s" } });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const owner = await registerUser(server.client);
  agent = await createAgentWithKey(server.client, owner, "outage agent");
  await createPolicy(server.client, admin, {
    name: "llm budget",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [{ pattern: "llm.*", effect: "ALLOW" }],
    caps: [{ per: "AGENT", window: "DAY", limit: units(100) }],
  });
  database = await openDatabaseSwitch(server, 2);
});

afterAll(async () => {
  // Whatever happened above, the database takes connections again before anything closes.
  await database?.close();
  await server?.close();
});

const refuseConnections = () => database.refuse();
const acceptConnections = () => database.accept();

async function timed(label: string, request: Promise<GraphQLResponse<unknown>>): Promise<GraphQLResponse<unknown>> {
  const { value, tookMs } = await within(HANG_MS, label, request);
  timings[label] = tookMs;
  return value;
}

async function reserve(cost: number): Promise<string> {
  const submitted = await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: units(cost) } }, agent.auth);
  expect(submitted.submitAgentAction.status).toBe("RESERVED");
  return submitted.submitAgentAction.id;
}

async function statusOf(id: string): Promise<string | undefined> {
  const [row] = await database.checker.db.select({ status: agentActions.status }).from(agentActions).where(eq(agentActions.id, id));
  return row?.status;
}

async function emailExists(email: string): Promise<boolean> {
  const rows = (await database.checker.db.execute(sql`SELECT 1 FROM users WHERE lower(email) = lower(${email})`)) as unknown as unknown[];
  return rows.length > 0;
}

async function agentDay(): Promise<{ reserved: bigint; settled: bigint } | undefined> {
  const [row] = await database.checker.db
    .select({ reserved: spendCounters.reserved, settled: spendCounters.settled })
    .from(spendCounters)
    .where(sql`${spendCounters.per} = 'AGENT' AND ${spendCounters.window} = 'DAY' AND ${spendCounters.subject} = ${agent.id}`);
  return row;
}

/** Each field of the brief, each expected to refuse as SERVICE_UNAVAILABLE. */
async function expectEveryFieldUnavailable(phase: string, ids: { settle: string; cancel: string }, email: string): Promise<void> {
  const { client } = server;
  expectUnavailable(await timed(`${phase} settleAgentAction`, client.request(SettleAgentActionDocument, { id: ids.settle, actualCost: units(1) }, agent.auth)), "settleAgentAction");
  expectUnavailable(await timed(`${phase} cancelAgentAction`, client.request(CancelAgentActionDocument, { id: ids.cancel }, agent.auth)), "cancelAgentAction");
  expectUnavailable(await timed(`${phase} login`, client.request(LoginDocument, { input: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } })), "login");
  expectUnavailable(await timed(`${phase} register`, client.request(RegisterDocument, { input: { email, password: PASSWORD } })), "register");
  expectUnavailable(await timed(`${phase} users`, client.request(USERS, {}, { token: admin.accessToken })), "users");
}

/** Nothing the refused fields asked for was written; then every field works again. */
async function expectUntouchedThenRecovered(ids: { settle: string; cancel: string }, email: string, before: Awaited<ReturnType<typeof agentDay>>): Promise<void> {
  expect(await statusOf(ids.settle)).toBe("RESERVED");
  expect(await statusOf(ids.cancel)).toBe("RESERVED");
  expect(await emailExists(email)).toBe(false);
  expect(await agentDay()).toEqual(before);
  await expectRecovered(ids, email);
}

/** The same server, the same pool: every field works again, on the same rows. */
async function expectRecovered(ids: { settle: string; cancel: string }, email: string): Promise<void> {
  const { client } = server;
  const before = await agentDay();
  expect((await client.ok(SettleAgentActionDocument, { id: ids.settle, actualCost: units(1) }, agent.auth)).settleAgentAction.status).toBe("SETTLED");
  expect((await client.ok(CancelAgentActionDocument, { id: ids.cancel }, agent.auth)).cancelAgentAction.status).toBe("CANCELLED");
  const after = await agentDay();
  // Settling 2 reserved for 1 actual, and cancelling 3 reserved, each happened exactly once.
  expect(after?.reserved).toBe((before?.reserved ?? 0n) - BigInt(units(2)) - BigInt(units(3)));
  expect(after?.settled).toBe((before?.settled ?? 0n) + BigInt(units(1)));
  await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD);
  expect((await registerUser(client, { email })).user.email).toBe(email);
  expect(((await client.ok(USERS, {}, { token: admin.accessToken })) as { users: { totalCount: number } }).users.totalCount).toBeGreaterThan(1);
  expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
}

/**
 * Another session of the test's own holds `tables` (ACCESS EXCLUSIVE) until released or cut
 * off, so the server's statements on them wait, in flight.
 */
async function holdTables(tables: string): Promise<{ release(): Promise<void> }> {
  const holder = postgres(new URL(`/${database.databaseName}`, ADMIN_DATABASE_URL).toString(), { max: 1, onnotice: () => undefined });
  let locked: () => void = () => undefined;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  let letGo: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const holding = holder
    .begin(async (tx) => {
      await tx.unsafe(`LOCK TABLE ${tables} IN ACCESS EXCLUSIVE MODE`);
      locked();
      await released;
    })
    .catch(() => "cut off");
  await isLocked;
  return {
    async release() {
      letGo();
      await holding;
      await holder.end({ timeout: 0 });
    },
  };
}

describe("PostgreSQL refusing and terminating connections", () => {
  it("answers SERVICE_UNAVAILABLE on every field, writes nothing, and recovers without a restart", async () => {
    const ids = { settle: await reserve(2), cancel: await reserve(3) };
    const email = uniqueEmail("during-pg-outage");
    const before = await agentDay();
    await refuseConnections();
    try {
      await expectEveryFieldUnavailable("refused", ids, email);
      const ready = await within(HANG_MS, "readyz", fetch(`${server.url}/readyz`));
      expect(ready.value.status).toBe(503);
      expect(await ready.value.json()).toMatchObject({ checks: { database: "unreachable" } });
    } finally {
      await acceptConnections();
    }
    await expectUntouchedThenRecovered(ids, email, before);
  });
});

describe("PostgreSQL cutting connections with statements in flight", () => {
  it("answers the requests in flight and every later one SERVICE_UNAVAILABLE, writes nothing, and recovers", async () => {
    const ids = { settle: await reserve(2), cancel: await reserve(3) };
    const email = uniqueEmail("during-pg-cut");
    const before = await agentDay();
    const holder = await holdTables("users");
    // More requests than the pool has connections (10): every connection has a statement in flight.
    const inFlight = Array.from({ length: 12 }, () => server.client.request(USERS, {}, { token: admin.accessToken }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await refuseConnections();
    try {
      for (const [index, response] of inFlight.entries()) expectUnavailable(await timed(`in flight ${index}`, response), "users");
      for (const round of ["cut", "cut again", "cut still"]) await expectEveryFieldUnavailable(round, ids, email);
    } finally {
      await acceptConnections();
      await holder.release();
    }
    await expectUntouchedThenRecovered(ids, email, before);
  });
});

describe("PostgreSQL too slow", () => {
  it("answers SERVICE_UNAVAILABLE once the statement timeout passes, writes nothing, and recovers", async () => {
    const ids = { settle: await reserve(2), cancel: await reserve(3) };
    const email = uniqueEmail("during-pg-lock");
    const before = await agentDay();
    // Another session holds every table the fields need: each statement waits, then times out.
    const holder = await holdTables("users, agent_actions, spend_counters");
    try {
      await expectEveryFieldUnavailable("locked", ids, email);
    } finally {
      await holder.release();
    }
    await expectUntouchedThenRecovered(ids, email, before);
    process.stderr.write(`postgres outage answer times (ms): ${JSON.stringify(timings)}\n`);
  });
});
