import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import {
  AgentActionByIdDocument,
  AgentActionsDocument,
  ApproveAgentActionDocument,
  CancelAgentActionDocument,
  GrantRoleDocument,
  MySpendDocument,
  RejectAgentActionDocument,
  SettleAgentActionDocument,
  SubmitAgentActionDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Held actions (REQUIRE_APPROVAL) and the clock: approval by someone with actions:approve who
 * is not the owner, rejection, approval re-deciding on the spend of then, and expiry of holds
 * and of reservations nobody settled. Expiry runs through services.actions.expireDue() on a
 * manual clock, as the sweeper of every process would.
 */
const HOUR = 3_600_000;
const clock = new ManualClock(new Date("2026-03-02T09:00:00.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;
let manager: SessionCredentialsFragment;
let managerEmail: string;

async function managerAccount(): Promise<SessionCredentialsFragment & { password: string }> {
  const user = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: user.user.id, role: "MANAGER" }, as(admin));
  return { ...(await loginUser(server.client, user.user.email, user.password)), password: user.password };
}

/** Access tokens expire as the clock moves: sign in again at the new time. */
async function signInAgain(): Promise<void> {
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  manager = await loginUser(server.client, managerEmail);
}

beforeAll(async () => {
  server = await startTestServer({ clock, env: { ACTION_RESERVATION_TTL: "15m", ACTION_APPROVAL_TTL: "24h" } });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  manager = await managerAccount();
  managerEmail = manager.user.email;
});
beforeEach(signInAgain);
afterAll(() => server.close());

/** An owner's agent under: payments.* requires approval, llm.* allowed, AGENT/DAY cap of `dayCap` units. */
async function heldAgent(dayCap = 100, owner?: { accessToken: string }): Promise<AgentWithKey> {
  const agent = await createAgentWithKey(server.client, owner ?? (await registerUser(server.client)));
  await createPolicy(server.client, admin, {
    name: "payments need a human",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
      { pattern: "llm.*", effect: "ALLOW" },
    ],
    caps: [{ per: "AGENT", window: "DAY", limit: units(dayCap) }],
  });
  return agent;
}

const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;
const daySpend = async (agent: AgentWithKey) =>
  (await server.client.ok(MySpendDocument, {}, agent.auth)).mySpend.windows.find((window) => window.window === "DAY")!;

describe("approval", () => {
  it("holds the action without charging; an approver's approval reserves it, and the audit names the approver", async () => {
    const agent = await heldAgent();
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(40), resource: "acct:42" });
    expect(held).toMatchObject({ status: "PENDING_APPROVAL", decision: "PENDING_APPROVAL", reserved: "0" });
    expect(held.reasons[0]!.code).toBe("RULE_REQUIRE_APPROVAL");
    expect(await daySpend(agent)).toMatchObject({ spent: "0" });

    const queue = await server.client.ok(AgentActionsDocument, { filter: { status: ["PENDING_APPROVAL"], agentId: agent.id } }, as(manager));
    expect(queue.agentActions.edges.map((edge) => edge.node.id)).toEqual([held.id]);

    const approved = (await server.client.ok(ApproveAgentActionDocument, { id: held.id, note: "ok, invoice 7" }, as(manager))).approveAgentAction;
    expect(approved).toMatchObject({ status: "RESERVED", reserved: units(40), resolvedBy: manager.user.id });
    expect(await daySpend(agent)).toMatchObject({ reserved: units(40) });
    const [row] = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.action, "agent.action.approved"));
    expect(row).toMatchObject({ actorType: "user", actorId: manager.user.id, targetId: held.id, outcome: "success" });

    const settled = (await server.client.ok(SettleAgentActionDocument, { id: held.id, actualCost: units(40) }, agent.auth)).settleAgentAction;
    expect(settled.status).toBe("SETTLED");
  });

  it("refuses the owner (even one who may approve), people without actions:approve, and the agent itself", async () => {
    const ownerManager = await managerAccount();
    const agent = await heldAgent(100, ownerManager);
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(1) });
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(ownerManager)), "FORBIDDEN");
    const stranger = await registerUser(server.client);
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(stranger)), "FORBIDDEN");
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, agent.auth), "FORBIDDEN");
    const still = await server.client.ok(AgentActionByIdDocument, { id: held.id }, as(ownerManager));
    expect(still.agentAction.status).toBe("PENDING_APPROVAL");
  });

  it("re-decides at approval: a cap filled in the meantime denies it (POLICY_DENIED to the approver, recorded)", async () => {
    const agent = await heldAgent(10);
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(6) });
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    const response = await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager));
    expectRefused(response, "POLICY_DENIED");
    expect(response.errors![0]!.extensions!.decisionId).toBe(held.id);
    const after = await server.client.ok(AgentActionByIdDocument, { id: held.id }, as(manager));
    expect(after.agentAction).toMatchObject({ status: "DENIED", reserved: "0" });
    expect(after.agentAction.reasons[0]).toMatchObject({ code: "CAP_EXCEEDED", per: "AGENT", window: "DAY" });
    expect(await daySpend(agent)).toMatchObject({ reserved: units(5) });
  });

  it("a retry of a held action that an approval denied is denied again", async () => {
    const agent = await heldAgent(10);
    const input = { action: "payments.transfer", estimatedCost: units(6), idempotencyKey: "pay-1" };
    const held = await submitOk(agent, input);
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "POLICY_DENIED");
    const retry = await server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
    expectRefused(retry, "POLICY_DENIED");
    expect(retry.errors![0]!.extensions!.decisionId).toBe(held.id);
  });

  it("rejects; a rejected action can be neither approved nor settled", async () => {
    const agent = await heldAgent();
    const held = await submitOk(agent, { action: "payments.refund", estimatedCost: units(3) });
    const rejected = (await server.client.ok(RejectAgentActionDocument, { id: held.id, note: "not today" }, as(manager))).rejectAgentAction;
    expect(rejected).toMatchObject({ status: "REJECTED", resolvedBy: manager.user.id });
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "CONFLICT");
    expectRefused(await server.client.request(SettleAgentActionDocument, { id: held.id, actualCost: "1" }, agent.auth), "CONFLICT");
  });

  it("the agent may withdraw its held action", async () => {
    const agent = await heldAgent();
    const held = await submitOk(agent, { action: "payments.refund", estimatedCost: units(3) });
    const cancelled = (await server.client.ok(CancelAgentActionDocument, { id: held.id }, agent.auth)).cancelAgentAction;
    expect(cancelled.status).toBe("CANCELLED");
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "CONFLICT");
  });
});

describe("expiry", () => {
  it("a hold nobody answers expires; approving it afterwards is a CONFLICT", async () => {
    const agent = await heldAgent();
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(2) });
    clock.advance(25 * HOUR);
    await signInAgain();
    expect(await server.app.services.actions.expireDue()).toBeGreaterThanOrEqual(1);
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "CONFLICT");
    const after = await server.client.ok(AgentActionByIdDocument, { id: held.id }, as(manager));
    expect(after.agentAction.status).toBe("EXPIRED");
    // It never ran: there is nothing to settle late.
    expectRefused(await server.client.request(SettleAgentActionDocument, { id: held.id, actualCost: units(2) }, agent.auth), "CONFLICT", "id");
  });

  it("an approval past the hold's expiry expires it instead, even before a sweep", async () => {
    const agent = await heldAgent();
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(2) });
    clock.advance(24 * HOUR + 1);
    await signInAgain();
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "CONFLICT", "id");
    expect((await server.client.ok(AgentActionByIdDocument, { id: held.id }, as(manager))).agentAction.status).toBe("EXPIRED");
  });

  it("an unsettled reservation expires and is released; a late settle still charges what was spent", async () => {
    const agent = await heldAgent(10);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(8) });
    expectRefused(await server.client.request(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: units(3) } }, agent.auth), "POLICY_DENIED");
    clock.advance(16 * 60_000);
    await server.app.services.actions.expireDue();
    expect(await daySpend(agent)).toMatchObject({ reserved: "0", spent: "0" });
    expect((await submitOk(agent, { action: "llm.completion", estimatedCost: units(3) })).status).toBe("RESERVED");

    const late = (await server.client.ok(SettleAgentActionDocument, { id: action.id, actualCost: units(1) }, agent.auth)).settleAgentAction;
    expect(late).toMatchObject({ status: "SETTLED", actualCost: units(1), settledLate: true });
    expect(await daySpend(agent)).toMatchObject({ reserved: units(3), settled: units(1) });
  });

  it("a reservation stays charged to the window it was made in", async () => {
    const agent = await heldAgent(10);
    clock.advance(24 * HOUR); // a fresh day
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(9) });
    clock.advance(24 * HOUR); // the next day: the DAY counter is a new one
    expect(await daySpend(agent)).toMatchObject({ spent: "0" });
    await server.client.ok(SettleAgentActionDocument, { id: action.id, actualCost: units(9) }, agent.auth);
    expect(await daySpend(agent)).toMatchObject({ spent: "0" });
    const month = (await server.client.ok(MySpendDocument, {}, agent.auth)).mySpend.windows.find((window) => window.window === "TOTAL")!;
    expect(month.settled).toBe(units(9));
  });
});
