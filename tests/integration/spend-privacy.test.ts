import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import {
  AgentActionByIdDocument,
  ApproveAgentActionDocument,
  CreateRoleDocument,
  GrantRoleDocument,
  MyAgentActionsDocument,
  MySpendDocument,
  ReplayDecisionDocument,
  SimulateAgentActionDocument,
  SimulateAgentActionForDocument,
  SubmitAgentActionDocument,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Spend of other tenants stays private: a GLOBAL (platform-wide) cap's counter sums every
 * owner's agents, so an owner, their agent or an approver without spend:read learns that
 * the platform cap is reached, never its limit or spend; an admin (spend:read) and the
 * audit see the figures.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
const PLATFORM_LIMIT = units(100);
const OTHERS_SPENT = units(95);

beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  await createPolicy(server.client, admin, {
    name: "platform day",
    scope: "GLOBAL",
    caps: [{ per: "GLOBAL", window: "DAY", limit: PLATFORM_LIMIT }],
  });
  // Another tenant fills most of the platform's day.
  const other = await tenantAgent();
  await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: OTHERS_SPENT } }, other.agent.auth);
});
afterAll(() => server.close());

/** An owner and their agent, allowed llm.* and payments.* (held for approval). */
async function tenantAgent(): Promise<{ owner: SessionCredentialsFragment; agent: AgentWithKey }> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  await createPolicy(server.client, admin, {
    name: "tenant",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [
      { pattern: "llm.*", effect: "ALLOW" },
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
    ],
  });
  return { owner, agent };
}

/** No platform-wide figure anywhere in `value`: neither the limit nor the others' spend, in any form. */
function expectNoPlatformFigures(value: unknown, figures = [PLATFORM_LIMIT, OTHERS_SPENT]): void {
  const json = JSON.stringify(value);
  for (const figure of figures) {
    expect(json).not.toContain(figure);
    expect(json).not.toContain(`${BigInt(figure) / 1_000_000n}.000000`);
  }
}

type Reason = { code: string; message: string; per?: string | null; limit?: string | null; spent?: string | null };
const expectRedacted = (reasons: readonly Reason[], figures?: string[]) => {
  expect(reasons).toEqual([expect.objectContaining({ code: "CAP_EXCEEDED", per: "GLOBAL" })]);
  expect(reasons[0]!.limit ?? null).toBeNull();
  expect(reasons[0]!.spent ?? null).toBeNull();
  expect(reasons[0]!.message).toContain("platform-wide cap is reached");
  expectNoPlatformFigures(reasons, figures);
};

describe("a GLOBAL cap's denial", () => {
  it("tells an owner and their agent that the platform cap is reached, without its figures; an admin sees them", async () => {
    const { owner, agent } = await tenantAgent();
    const input = { action: "llm.completion", estimatedCost: units(10) };

    const response = await server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
    expectRefused(response, "POLICY_DENIED");
    const error = response.errors![0]!;
    expectRedacted(error.extensions!.reasons as Reason[]);
    expectNoPlatformFigures(error);
    const decisionId = error.extensions!.decisionId as string;

    const simulated = (await server.client.ok(SimulateAgentActionDocument, { input }, agent.auth)).simulateAgentAction.decision;
    expect(simulated.outcome).toBe("DENIED");
    expectRedacted(simulated.reasons);
    const globalCap = simulated.caps.find((cap) => cap.per === "GLOBAL")!;
    expect(globalCap).toMatchObject({ fits: false, limit: null, spentBefore: null, spentAfter: null, remaining: null });
    expectNoPlatformFigures(simulated);

    const forOwner = (await server.client.ok(SimulateAgentActionForDocument, { agentId: agent.id, input }, as(owner))).simulateAgentActionFor;
    expectRedacted(forOwner.decision.reasons);
    expectNoPlatformFigures(forOwner);

    expectRedacted((await server.client.ok(AgentActionByIdDocument, { id: decisionId }, as(owner))).agentAction.reasons);
    const mine = (await server.client.ok(MyAgentActionsDocument, {}, agent.auth)).myAgentActions.edges.map((edge) => edge.node);
    expectRedacted(mine.find((node) => node.id === decisionId)!.reasons);
    const replayed = (await server.client.ok(ReplayDecisionDocument, { actionId: decisionId }, as(owner))).replayDecision;
    expect(replayed.matches).toBe(true);
    expectRedacted(replayed.reasons);
    expectNoPlatformFigures((await server.client.ok(MySpendDocument, {}, agent.auth)).mySpend);

    // spend:read: the figures, as recorded.
    const full = expect.objectContaining({ code: "CAP_EXCEEDED", per: "GLOBAL", limit: PLATFORM_LIMIT, spent: OTHERS_SPENT });
    expect((await server.client.ok(AgentActionByIdDocument, { id: decisionId }, as(admin))).agentAction.reasons).toEqual([full]);
    const adminSim = (await server.client.ok(SimulateAgentActionForDocument, { agentId: agent.id, input }, as(admin))).simulateAgentActionFor.decision;
    expect(adminSim.reasons).toEqual([full]);
    expect(adminSim.caps.find((cap) => cap.per === "GLOBAL")).toMatchObject({ limit: PLATFORM_LIMIT, spentBefore: OTHERS_SPENT, remaining: units(5) });
    expect((await server.client.ok(ReplayDecisionDocument, { actionId: decisionId }, as(admin))).replayDecision.reasons).toEqual([full]);

    // The audit keeps the full figures (read with audit:read).
    const [row] = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, decisionId), eq(auditEvents.action, "agent.action.decided")));
    expect((row!.details as { reasons: unknown[] }).reasons).toEqual([full]);
  });

  it("an approver without spend:read is told the same at approval; one with it sees the figures", async () => {
    const { agent } = await tenantAgent();
    // Both fit when held (95 + 4 of 100); the platform then reaches 97, and neither fits any more.
    const hold = async (action: string) =>
      (await server.client.ok(SubmitAgentActionDocument, { input: { action, estimatedCost: units(4) } }, agent.auth)).submitAgentAction;
    const heldA = await hold("payments.transfer");
    const heldB = await hold("payments.refund");
    expect([heldA.status, heldB.status]).toEqual(["PENDING_APPROVAL", "PENDING_APPROVAL"]);
    await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.completion", estimatedCost: units(2) } }, agent.auth);
    const spentNow = units(97);

    await server.client.ok(CreateRoleDocument, { input: { name: "APPROVER_ONLY", permissions: ["actions:approve"] } }, as(admin));
    const user = await registerUser(server.client);
    await server.client.ok(GrantRoleDocument, { userId: user.user.id, role: "APPROVER_ONLY" }, as(admin));
    const approver = await loginUser(server.client, user.user.email, user.password);

    const denied = await server.client.request(ApproveAgentActionDocument, { id: heldA.id }, as(approver));
    expectRefused(denied, "POLICY_DENIED");
    expectRedacted(denied.errors![0]!.extensions!.reasons as Reason[], [PLATFORM_LIMIT, spentNow]);
    expectNoPlatformFigures(denied.errors, [PLATFORM_LIMIT, spentNow]);

    const byAdmin = await server.client.request(ApproveAgentActionDocument, { id: heldB.id }, as(admin));
    expectRefused(byAdmin, "POLICY_DENIED");
    expect(byAdmin.errors![0]!.extensions!.reasons).toEqual([expect.objectContaining({ per: "GLOBAL", limit: PLATFORM_LIMIT, spent: spentNow })]);
  });
});
