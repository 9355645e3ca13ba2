import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, auditEvents, spendCounters } from "../../src/db/schema";
import { SubmitAgentActionDocument, type AgentActionInput, type SubmitAgentActionMutation } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { loginUser, registerUser } from "../support/fixtures";
import type { GraphQLResponse } from "../support/graphql-client";
import { openDatabaseSwitch, type DatabaseSwitch } from "../support/outage";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Fail closed: while the spend ledger (the server's PostgreSQL database) cannot be reached,
 * a submitted action is refused as SERVICE_UNAVAILABLE, never allowed and never an internal
 * error, with no SQL or driver text in the answer, and nothing of it is recorded. Once the
 * database takes connections again the same server decides the next action normally (its
 * pool reconnects), and the refused idempotency key decides as if it were new.
 */
let server: TestServer;
/** The server's own database, broken and mended by the tests; its checker counts what was written. */
let database: DatabaseSwitch;
let agent: AgentWithKey;
/** An agent whose key this server has never resolved: its first request needs the database. */
let coldAgent: AgentWithKey;

beforeAll(async () => {
  server = await startTestServer();
  const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const owner = await registerUser(server.client);
  agent = await createAgentWithKey(server.client, owner, "fail-closed agent");
  coldAgent = await createAgentWithKey(server.client, owner, "cold agent");
  for (const { id } of [agent, coldAgent]) {
    await createPolicy(server.client, admin, {
      name: "llm budget",
      scope: "AGENT",
      scopeId: id,
      rules: [{ pattern: "llm.*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(100) }],
    });
  }
  database = await openDatabaseSwitch(server, 1);
});

afterAll(async () => {
  // Whatever happened above, the database takes connections again before anything closes.
  await database?.close();
  await server?.close();
});

const cutOffLedger = () => database.refuse();
const reopenLedger = () => database.accept();

const submit = (who: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, who.auth);

/** What a database or driver error would leak: SQL, PostgreSQL's words, error codes, hosts. */
const LEAK = /\b(select|insert|update|delete|from|where)\b|sql|postgres|pg_|fatal|sqlstate|57P0|55000|3D000|accepting connections|terminat|ECONN|127\.0\.0\.1|ais_test_|agent_actions|spend_counters/i;

/** Refused as SERVICE_UNAVAILABLE, with nothing allowed and nothing internal in the answer. */
function expectUnavailable(response: GraphQLResponse<SubmitAgentActionMutation>): void {
  expect(response.status).not.toBe(500);
  expect(response.data?.submitAgentAction ?? null).toBeNull();
  expect(response.errors, JSON.stringify(response.errors)).toHaveLength(1);
  expect(response.errors![0]!.extensions).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  expect(JSON.stringify(response.errors)).not.toMatch(LEAK);
}

async function actionsOf(who: AgentWithKey) {
  return database.checker.db.select().from(agentActions).where(eq(agentActions.agentId, who.id));
}

async function decisionAuditsOf(who: AgentWithKey): Promise<number> {
  const [row] = await database.checker.db
    .select({ n: count() })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, "agent.action.decided"), eq(auditEvents.actorId, who.id)));
  return row?.n ?? 0;
}

async function agentDayReserved(who: AgentWithKey): Promise<bigint> {
  const [row] = await database.checker.db
    .select({ reserved: spendCounters.reserved })
    .from(spendCounters)
    .where(and(eq(spendCounters.per, "AGENT"), eq(spendCounters.window, "DAY"), eq(spendCounters.subject, who.id)));
  return row?.reserved ?? 0n;
}

describe("an unreachable spend ledger", () => {
  it("refuses actions as SERVICE_UNAVAILABLE, records nothing, and decides normally once the database is back", async () => {
    // Warm up: the agent's key and policy chain are now cached, so the action itself is the
    // first thing to need the database.
    const warm = (await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: units(2) } }, agent.auth))
      .submitAgentAction;
    expect(warm).toMatchObject({ decision: "ALLOWED", status: "RESERVED" });

    await cutOffLedger();
    try {
      // Without a key the first database contact is the decision's transaction; with one, the
      // look-up of an earlier decision of that key; for a cold key, resolving the key.
      expectUnavailable(await submit(agent, { action: "llm.completion", estimatedCost: units(3) }));
      expectUnavailable(await submit(agent, { action: "llm.completion", estimatedCost: units(5), idempotencyKey: "during-outage" }));
      expectUnavailable(await submit(coldAgent, { action: "llm.completion", estimatedCost: units(1) }));
      // Every refusal stays quick however long the outage lasts: a lane left with the client
      // whose connection broke would hold these requests instead of answering them.
      for (let attempt = 0; attempt < 8; attempt += 1) {
        expectUnavailable(await submit(agent, { action: "llm.completion", estimatedCost: units(1) }));
      }
    } finally {
      await reopenLedger();
    }

    // The same server, the same pool: the refused key now decides as a new action.
    const retried = (
      await server.client.ok(
        SubmitAgentActionDocument,
        { input: { action: "llm.completion", estimatedCost: units(5), idempotencyKey: "during-outage" } },
        agent.auth,
      )
    ).submitAgentAction;
    expect(retried).toMatchObject({ decision: "ALLOWED", status: "RESERVED", reserved: units(5) });
    const cold = (await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: units(1) } }, coldAgent.auth))
      .submitAgentAction;
    expect(cold).toMatchObject({ decision: "ALLOWED" });

    // The refused attempts left no row, no audit row and no reservation.
    const rows = await actionsOf(agent);
    expect(rows.map((row) => row.id).sort()).toEqual([warm.id, retried.id].sort());
    expect(rows.find((row) => row.idempotencyKey === "during-outage")?.id).toBe(retried.id);
    expect(await decisionAuditsOf(agent)).toBe(2);
    expect(await agentDayReserved(agent)).toBe(BigInt(units(2)) + BigInt(units(5)));
    expect((await actionsOf(coldAgent)).map((row) => row.id)).toEqual([cold.id]);
    expect(await decisionAuditsOf(coldAgent)).toBe(1);
  });
});
