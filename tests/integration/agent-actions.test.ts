import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, auditEvents, spendCounters } from "../../src/db/schema";
import {
  CancelAgentActionDocument,
  MySpendDocument,
  SettleAgentActionDocument,
  SubmitAgentActionDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * The policy middleware on submitAgentAction, over HTTP with real agent keys: decisions,
 * reservations on the ledger, settle and cancel, idempotency, and what bad input gets.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

/** A fresh owner and agent, with an AGENT policy allowing `llm.*` under an AGENT/DAY cap of `dayCap` units. */
async function cappedAgent(dayCap: number): Promise<AgentWithKey> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  await createPolicy(server.client, admin, {
    name: "llm budget",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [{ pattern: "llm.*", effect: "ALLOW" }],
    caps: [{ per: "AGENT", window: "DAY", limit: units(dayCap) }],
  });
  return agent;
}

const submit = (agent: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;

async function agentDaySpend(agent: AgentWithKey) {
  const report = (await server.client.ok(MySpendDocument, {}, agent.auth)).mySpend;
  return report.windows.find((window) => window.window === "DAY")!;
}

const actionRows = (agentId: string) => server.app.database.db.select().from(agentActions).where(eq(agentActions.agentId, agentId));

describe("decisions", () => {
  it("denies by default: no rule matches, POLICY_DENIED names it and carries the decision id, the denial is recorded", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    const response = await submit(agent, { action: "email.send", estimatedCost: units(1) });
    expectRefused(response, "POLICY_DENIED");
    const extensions = response.errors![0]!.extensions as { decisionId: string; reasons: { code: string; message: string }[] };
    expect(extensions.reasons[0]!.code).toBe("NO_MATCHING_RULE");
    const [row] = await actionRows(agent.id);
    expect(row).toMatchObject({ id: extensions.decisionId, status: "DENIED", outcome: "DENIED", reserved: 0n });
    const audit = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.targetId, extensions.decisionId));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "agent.action.decided", outcome: "denied", actorType: "agent", actorId: agent.id });
  });

  it("allows within the cap and reserves the estimate; the action that does not fit is denied naming the cap and its numbers", async () => {
    const agent = await cappedAgent(10);
    const first = await submitOk(agent, { action: "llm.completion", estimatedCost: units(6) });
    expect(first).toMatchObject({ status: "RESERVED", decision: "ALLOWED", reserved: units(6), estimatedCost: units(6) });
    expect(first.reasons[0]).toMatchObject({ code: "RULE_ALLOW", scope: "AGENT" });

    const response = await submit(agent, { action: "llm.completion", estimatedCost: units(5) });
    expectRefused(response, "POLICY_DENIED");
    const reasons = (response.errors![0]!.extensions as { reasons: Record<string, unknown>[] }).reasons;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: "CAP_EXCEEDED", scope: "AGENT", per: "AGENT", window: "DAY", limit: units(10), spent: units(6), cost: units(5) });
    expect(reasons[0]!.message).toContain("limit 10.000000");
    expect(reasons[0]!.message).toContain("already spent 6.000000");

    expect(await agentDaySpend(agent)).toMatchObject({ reserved: units(6), settled: "0", spent: units(6), remaining: units(4) });
  });

  it("settles the actual cost in place of the reservation, making room; an overrun within the cap's room is charged and flagged", async () => {
    const agent = await cappedAgent(10);
    const first = await submitOk(agent, { action: "llm.completion", estimatedCost: units(6) });
    const settled = (await server.client.ok(SettleAgentActionDocument, { id: first.id, actualCost: units(2) }, agent.auth)).settleAgentAction;
    expect(settled).toMatchObject({ status: "SETTLED", actualCost: units(2), reserved: "0", overrun: false });
    expect(await agentDaySpend(agent)).toMatchObject({ reserved: "0", settled: units(2), remaining: units(8) });

    const second = await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    // 2 settled + 9 would take the cap of 10 to 11: refused, nothing charged, still reserved.
    const refused = await server.client.request(SettleAgentActionDocument, { id: second.id, actualCost: units(9) }, agent.auth);
    expectRefused(refused, "POLICY_DENIED");
    expect(refused.errors![0]!.extensions).toMatchObject({ bound: "CAP", allowed: units(8), requested: units(9) });
    expect(await agentDaySpend(agent)).toMatchObject({ reserved: units(5), settled: units(2) });
    const over = (await server.client.ok(SettleAgentActionDocument, { id: second.id, actualCost: units(8) }, agent.auth)).settleAgentAction;
    expect(over).toMatchObject({ status: "SETTLED", actualCost: units(8), overrun: true, settledLate: false });
    expect(await agentDaySpend(agent)).toMatchObject({ settled: units(10), spent: units(10), remaining: "0" });
    expectRefused(await submit(agent, { action: "llm.completion", estimatedCost: units(1) }), "POLICY_DENIED");

    // Settling again with the same cost is a retry; with another cost, a conflict.
    const again = await server.client.ok(SettleAgentActionDocument, { id: second.id, actualCost: units(8) }, agent.auth);
    expect(again.settleAgentAction.status).toBe("SETTLED");
    expectRefused(await server.client.request(SettleAgentActionDocument, { id: second.id, actualCost: units(1) }, agent.auth), "CONFLICT", "id");
    expect(await agentDaySpend(agent)).toMatchObject({ settled: units(10) });
  });

  it("cancel releases the reservation once; a cancelled action cannot be settled", async () => {
    const agent = await cappedAgent(10);
    const action = await submitOk(agent, { action: "llm.embedding", estimatedCost: units(7) });
    const cancelled = (await server.client.ok(CancelAgentActionDocument, { id: action.id }, agent.auth)).cancelAgentAction;
    expect(cancelled).toMatchObject({ status: "CANCELLED", reserved: "0" });
    await server.client.ok(CancelAgentActionDocument, { id: action.id }, agent.auth);
    expect(await agentDaySpend(agent)).toMatchObject({ reserved: "0", settled: "0", remaining: units(10) });
    expectRefused(await server.client.request(SettleAgentActionDocument, { id: action.id, actualCost: units(1) }, agent.auth), "CONFLICT", "id");
  });

  it("an agent cannot settle or cancel another agent's action (it does not exist for it)", async () => {
    const agent = await cappedAgent(10);
    const other = await cappedAgent(10);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(1) });
    expectRefused(await server.client.request(SettleAgentActionDocument, { id: action.id, actualCost: "1" }, other.auth), "NOT_FOUND");
    expectRefused(await server.client.request(CancelAgentActionDocument, { id: action.id }, other.auth), "NOT_FOUND");
    expect((await actionRows(agent.id))[0]).toMatchObject({ status: "RESERVED" });
  });
});

describe("the ledger's rows", () => {
  it("are created when a process believes they exist but they do not (the lock falls back to creating them)", async () => {
    const agent = await cappedAgent(10);
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(1) });
    // Counter rows are never deleted by the server; remove this agent's behind its back.
    await server.app.database.db.delete(spendCounters).where(eq(spendCounters.subject, agent.id));
    const next = await submitOk(agent, { action: "llm.completion", estimatedCost: units(2) });
    expect(next.status).toBe("RESERVED");
    const rows = await server.app.database.db.select().from(spendCounters).where(eq(spendCounters.subject, agent.id));
    expect(rows).toHaveLength(5);
    expect(rows.every((row) => row.reserved === 2_000_000n)).toBe(true);
  });
});

describe("idempotency", () => {
  it("the same key returns the first decision and charges once, even when the retries race", async () => {
    const agent = await cappedAgent(10);
    const input = { action: "llm.completion", estimatedCost: units(3), idempotencyKey: "req-1" };
    const results = await Promise.all(Array.from({ length: 5 }, () => submitOk(agent, input)));
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    expect(await actionRows(agent.id)).toHaveLength(1);
    expect(await agentDaySpend(agent)).toMatchObject({ reserved: units(3) });
  });

  it("a denied key is denied again with the same decision id; the key with other input is a CONFLICT", async () => {
    const agent = await cappedAgent(1);
    const input = { action: "llm.completion", estimatedCost: units(2), idempotencyKey: "big" };
    const first = await submit(agent, input);
    const second = await submit(agent, input);
    expectRefused(second, "POLICY_DENIED");
    expect(second.errors![0]!.extensions!.decisionId).toBe(first.errors![0]!.extensions!.decisionId);
    expectRefused(await submit(agent, { ...input, estimatedCost: units(1) }), "CONFLICT", "idempotencyKey");
    expect(await actionRows(agent.id)).toHaveLength(1);
  });
});

describe("concurrency on one server", () => {
  it("never lets concurrent actions share the last room of a cap", async () => {
    const agent = await cappedAgent(5);
    const results = await Promise.all(Array.from({ length: 12 }, () => submit(agent, { action: "llm.completion", estimatedCost: units(1) })));
    const allowed = results.filter((result) => !result.errors);
    expect(allowed).toHaveLength(5);
    for (const result of results.filter((r) => r.errors)) expectRefused(result, "POLICY_DENIED");
    const counters = await server.app.database.db
      .select()
      .from(spendCounters)
      .where(and(eq(spendCounters.per, "AGENT"), eq(spendCounters.subject, agent.id), eq(spendCounters.window, "DAY")));
    expect(counters[0]!.reserved).toBe(5_000_000n);
  });
});

describe("who may submit, and bad input", () => {
  it("refuses people and missing keys: only agents submit", async () => {
    const owner = await registerUser(server.client);
    expectRefused(await server.client.request(SubmitAgentActionDocument, { input: { action: "llm.x", estimatedCost: "1" } }, { token: owner.accessToken }), "FORBIDDEN");
    expectRefused(await server.client.request(SubmitAgentActionDocument, { input: { action: "llm.x", estimatedCost: "1" } }), "UNAUTHENTICATED");
  });

  it("refuses malformed actions with the field named and records nothing", async () => {
    const agent = await cappedAgent(10);
    const cases: [AgentActionInput, string][] = [
      [{ action: "llm.*", estimatedCost: "1" }, "action"],
      [{ action: "", estimatedCost: "1" }, "action"],
      [{ action: "llm.completion", estimatedCost: "-1" }, "estimatedCost"],
      [{ action: "llm.completion", estimatedCost: "1000000000000000001" }, "estimatedCost"],
      [{ action: "llm.completion", estimatedCost: "1", idempotencyKey: "has space" }, "idempotencyKey"],
      [{ action: "llm.completion", estimatedCost: "1", resource: "x".repeat(513) }, "resource"],
      [{ action: "llm.completion", estimatedCost: "1", metadata: { blob: "y".repeat(9000) } }, "metadata"],
      [{ action: "llm.completion", estimatedCost: "1", resource: "nul\u0000here" }, "resource"],
      [{ action: "llm.completion", estimatedCost: "1", metadata: { text: "\ud800" } }, "metadata"],
    ];
    for (const [input, field] of cases) expectRefused(await submit(agent, input), "BAD_USER_INPUT", field);
    expectRefused(await submit(agent, { action: "llm.completion", estimatedCost: "1.5" }), "BAD_USER_INPUT");
    expect(await actionRows(agent.id)).toHaveLength(0);
  });
});
