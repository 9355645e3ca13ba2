import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, auditEvents } from "../../src/db/schema";
import {
  AgentActionByIdDocument,
  AgentActionsDocument,
  GrantRoleDocument,
  MyAgentActionsDocument,
  ReplayDecisionDocument,
  SetPolicyModeDocument,
  SimulateAgentActionDocument,
  SimulateAgentActionForDocument,
  SpendReportDocument,
  SubmitAgentActionDocument,
  UpdatePolicyDocument,
  WhatIfPolicyDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Explaining decisions: dry runs, the audit record of every decision, replay against the
 * recorded policy versions, shadow policies, what-if over recorded actions, spend reports,
 * and who may read which actions. Also: a policy change reaches the next decision at once.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

interface Setup {
  owner: SessionCredentialsFragment;
  agent: AgentWithKey;
  policyId: string;
}

/** An owner's agent under a USER policy (llm.* allowed, OWNER/DAY cap) and an AGENT policy (AGENT/DAY cap). */
async function governedAgent(agentCap = 10, ownerCap = 50): Promise<Setup> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  const policy = await createPolicy(server.client, admin, {
    name: "team llm",
    scope: "USER",
    scopeId: owner.user.id,
    rules: [{ pattern: "llm.*", effect: "ALLOW" }],
    caps: [{ per: "OWNER", window: "DAY", limit: units(ownerCap) }],
  });
  await createPolicy(server.client, admin, {
    name: "agent day",
    scope: "AGENT",
    scopeId: agent.id,
    caps: [{ per: "AGENT", window: "DAY", limit: units(agentCap) }],
  });
  return { owner, agent, policyId: policy.id };
}

const submit = (agent: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;

describe("dry runs", () => {
  it("simulateAgentAction explains a decision with every cap's numbers and charges nothing", async () => {
    const { agent, owner } = await governedAgent(10, 50);
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(4) });
    const { simulateAgentAction: sim } = await server.client.ok(SimulateAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(7) } }, agent.auth);
    expect(sim.decision.outcome).toBe("DENIED");
    const agentCap = sim.decision.caps.find((cap) => cap.per === "AGENT")!;
    expect(agentCap).toMatchObject({ window: "DAY", limit: units(10), spentBefore: units(4), fits: false, scope: "AGENT" });
    expect(sim.decision.caps.find((cap) => cap.per === "OWNER")).toMatchObject({ spentBefore: units(4), fits: true, scope: "USER" });
    expect(sim.decision.reasons).toEqual([expect.objectContaining({ code: "CAP_EXCEEDED", per: "AGENT", limit: units(10), spent: units(4) })]);

    const forOwner = await server.client.ok(SimulateAgentActionForDocument, { agentId: agent.id, input: { action: "llm.chat", estimatedCost: units(6) } }, as(owner));
    expect(forOwner.simulateAgentActionFor.decision).toMatchObject({ outcome: "ALLOWED" });
    expect(forOwner.simulateAgentActionFor.decision.caps.find((cap) => cap.per === "AGENT")).toMatchObject({ spentAfter: units(10), remaining: "0" });

    expect(await server.app.database.db.select().from(agentActions).where(eq(agentActions.agentId, agent.id))).toHaveLength(1);
    const stranger = await registerUser(server.client);
    expectRefused(await server.client.request(SimulateAgentActionForDocument, { agentId: agent.id, input: { action: "llm.chat", estimatedCost: "1" } }, as(stranger)), "NOT_FOUND");
  });
});

describe("the record of a decision", () => {
  it("audits input, outcome, reasons, policy versions and each cap's spend before and after", async () => {
    const { agent, policyId } = await governedAgent(10, 50);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(3), resource: "model:x", idempotencyKey: "k1", metadata: { prompt: "secret-ish" } });
    const [row] = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, action.id), eq(auditEvents.action, "agent.action.decided")));
    const details = row!.details as Record<string, any>;
    expect(details.input).toMatchObject({ action: "llm.completion", resource: "model:x", estimatedCost: units(3), idempotencyKey: "k1" });
    expect(JSON.stringify(details)).not.toContain("secret-ish");
    expect(details.outcome).toBe("ALLOWED");
    expect(details.policies).toEqual(expect.arrayContaining([expect.objectContaining({ id: policyId, version: 1, scope: "USER" })]));
    expect(details.caps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ per: "AGENT", window: "DAY", limit: units(10), spentBefore: "0", spentAfter: units(3) }),
        expect.objectContaining({ per: "OWNER", window: "DAY", limit: units(50), spentBefore: "0", spentAfter: units(3) }),
      ]),
    );
  });

  it("replays a decision against its recorded policy versions, even after the policy changed", async () => {
    const { agent, owner, policyId } = await governedAgent(10, 50);
    const allowed = await submitOk(agent, { action: "llm.completion", estimatedCost: units(3) });
    const denied = await submit(agent, { action: "llm.completion", estimatedCost: units(8) });
    const deniedId = denied.errors![0]!.extensions!.decisionId as string;
    await server.client.ok(
      UpdatePolicyDocument,
      { id: policyId, input: { name: "team llm", scope: "USER", scopeId: owner.user.id, rules: [{ pattern: "llm.*", effect: "DENY" }] } },
      as(admin),
    );
    for (const [id, outcome] of [
      [allowed.id, "ALLOWED"],
      [deniedId, "DENIED"],
    ] as const) {
      const { replayDecision } = await server.client.ok(ReplayDecisionDocument, { actionId: id }, as(owner));
      expect(replayDecision).toMatchObject({ actionId: id, recordedOutcome: outcome, replayedOutcome: outcome, matches: true });
    }
    // The change reached the very next decision.
    const now = await submit(agent, { action: "llm.completion", estimatedCost: "1" });
    expectRefused(now, "POLICY_DENIED");
    expect((now.errors![0]!.extensions!.reasons as { code: string }[])[0]!.code).toBe("RULE_DENY");
  });
});

describe("what a chain depends on", () => {
  it("a role granted to the owner brings that role's policies into the very next decision", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    await createPolicy(server.client, admin, { name: "managers report", scope: "ROLE", scopeId: "MANAGER", rules: [{ pattern: "reports.*", effect: "ALLOW" }] });
    const before = await submit(agent, { action: "reports.weekly", estimatedCost: "0" });
    expectRefused(before, "POLICY_DENIED");
    await server.client.ok(GrantRoleDocument, { userId: owner.user.id, role: "MANAGER" }, as(admin));
    const after = await submitOk(agent, { action: "reports.weekly", estimatedCost: "0" });
    expect(after).toMatchObject({ decision: "ALLOWED" });
    expect(after.reasons[0]).toMatchObject({ code: "RULE_ALLOW", scope: "ROLE" });
  });
});

describe("shadow mode and what-if", () => {
  it("a SHADOW policy records what it would have denied and blocks nothing", async () => {
    const { agent } = await governedAgent(100, 100);
    const shadow = await createPolicy(server.client, admin, {
      name: "trial: no embeddings",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "llm.embedding", effect: "DENY" }],
    });
    await server.client.ok(SetPolicyModeDocument, { id: shadow.id, mode: "SHADOW" }, as(admin));
    const embedding = await submitOk(agent, { action: "llm.embedding", estimatedCost: units(1) });
    const chat = await submitOk(agent, { action: "llm.chat", estimatedCost: units(1) });
    expect(embedding).toMatchObject({ status: "RESERVED", decision: "ALLOWED", shadowDecision: "DENIED" });
    expect(chat).toMatchObject({ decision: "ALLOWED", shadowDecision: "ALLOWED" });
    const wouldDeny = await server.client.ok(MyAgentActionsDocument, { filter: { shadowDecision: "DENIED" } }, agent.auth);
    expect(wouldDeny.myAgentActions.edges.map((edge) => edge.node.id)).toEqual([embedding.id]);
  });

  it("what-if replays a proposed policy over recorded actions and reports the decisions it would change", async () => {
    const { agent, owner } = await governedAgent(100, 100);
    const small = await submitOk(agent, { action: "llm.chat", estimatedCost: units(1) });
    const big = await submitOk(agent, { action: "llm.chat", estimatedCost: units(30) });
    const proposal = {
      name: "tighter",
      scope: "AGENT" as const,
      scopeId: agent.id,
      rules: [{ pattern: "llm.chat", effect: "ALLOW" as const, maxCostPerAction: units(10) }],
    };
    const { whatIfPolicy: report } = await server.client.ok(WhatIfPolicyDocument, { policy: proposal, filter: { agentId: agent.id } }, as(owner));
    expect(report).toMatchObject({ considered: 2, changed: 1, newlyDenied: 1, newlyAllowed: 0 });
    expect(report.changes[0]).toMatchObject({ actionId: big.id, recordedOutcome: "ALLOWED", proposedOutcome: "DENIED" });
    expect(report.changes[0]!.reasons[0]!.code).toBe("COST_OVER_RULE_MAX");
    expect(report.changes.map((change) => change.actionId)).not.toContain(small.id);
    // A proposed cap finds its counter's recorded spend even though no cap read it then.
    const capped = { name: "global hour", scope: "AGENT" as const, scopeId: agent.id, caps: [{ per: "OWNER" as const, window: "HOUR" as const, limit: units(20) }] };
    const second = await server.client.ok(WhatIfPolicyDocument, { policy: capped, filter: { agentId: agent.id } }, as(owner));
    expect(second.whatIfPolicy).toMatchObject({ considered: 2, newlyDenied: 1 });
    expect(second.whatIfPolicy.changes[0]).toMatchObject({ actionId: big.id });
    // Broader proposals would read everyone's recorded spend: they need policies:read.
    const global = { name: "global", scope: "GLOBAL" as const, caps: [{ per: "GLOBAL" as const, window: "DAY" as const, limit: "0" }] };
    expectRefused(await server.client.request(WhatIfPolicyDocument, { policy: global }, as(owner)), "FORBIDDEN");
    const asAdmin = await server.client.ok(WhatIfPolicyDocument, { policy: global, filter: { agentId: agent.id } }, as(admin));
    expect(asAdmin.whatIfPolicy).toMatchObject({ considered: 2, newlyDenied: 2 });
    expectRefused(await server.client.request(WhatIfPolicyDocument, { policy: global, filter: { agentId: "not-a-uuid" } }, as(admin)), "BAD_USER_INPUT", "filter.agentId");
  });
});

describe("spend reports and who reads what", () => {
  it("reports spend per agent, owner and globally with each cap's room; global needs spend:read", async () => {
    const { agent, owner } = await governedAgent(10, 50);
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(4) });
    const agentReport = (await server.client.ok(SpendReportDocument, { per: "AGENT", subjectId: agent.id }, as(owner))).spendReport;
    const day = agentReport.windows.find((window) => window.window === "DAY")!;
    expect(day).toMatchObject({ reserved: units(4), spent: units(4), remaining: units(6) });
    expect(day.caps).toEqual([expect.objectContaining({ limit: units(10), remaining: units(6), scope: "AGENT" })]);
    expect(agentReport.windows.find((window) => window.window === "HOUR")).toMatchObject({ spent: units(4), remaining: null, caps: [] });

    const ownerReport = (await server.client.ok(SpendReportDocument, { per: "OWNER", subjectId: null }, as(owner))).spendReport;
    expect(ownerReport.windows.find((window) => window.window === "DAY")).toMatchObject({ spent: units(4), remaining: units(46) });

    expectRefused(await server.client.request(SpendReportDocument, { per: "GLOBAL" }, as(owner)), "FORBIDDEN");
    const global = (await server.client.ok(SpendReportDocument, { per: "GLOBAL" }, as(admin))).spendReport;
    expect(BigInt(global.windows.find((window) => window.window === "TOTAL")!.spent)).toBeGreaterThanOrEqual(4_000_000n);
    const stranger = await registerUser(server.client);
    expectRefused(await server.client.request(SpendReportDocument, { per: "AGENT", subjectId: agent.id }, as(stranger)), "NOT_FOUND");
  });

  it("owners see their agents' actions, others see none, agents see only their own and reach no user query", async () => {
    const one = await governedAgent();
    const two = await governedAgent();
    const mine = await submitOk(one.agent, { action: "llm.completion", estimatedCost: "1" });
    await submitOk(two.agent, { action: "llm.completion", estimatedCost: "1" });
    const ownerView = await server.client.ok(AgentActionsDocument, {}, as(one.owner));
    expect(ownerView.agentActions.edges.map((edge) => edge.node.id)).toEqual([mine.id]);
    expectRefused(await server.client.request(AgentActionByIdDocument, { id: mine.id }, as(two.owner)), "NOT_FOUND");
    const agentView = await server.client.ok(MyAgentActionsDocument, {}, two.agent.auth);
    expect(agentView.myAgentActions.edges.map((edge) => edge.node.id)).not.toContain(mine.id);
    expectRefused(await server.client.request(AgentActionsDocument, {}, one.agent.auth), "FORBIDDEN");
    const everyone = await server.client.ok(AgentActionsDocument, { filter: { agentId: one.agent.id } }, as(admin));
    expect(everyone.agentActions.totalCount).toBe(1);
  });

  it("pages through actions newest first with cursors", async () => {
    const { agent } = await governedAgent(100, 100);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await submitOk(agent, { action: "llm.completion", estimatedCost: "1" })).id);
    const first = await server.client.ok(MyAgentActionsDocument, { first: 2 }, agent.auth);
    expect(first.myAgentActions).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const rest = await server.client.ok(MyAgentActionsDocument, { first: 10, after: first.myAgentActions.pageInfo.endCursor }, agent.auth);
    const seen = [...first.myAgentActions.edges, ...rest.myAgentActions.edges].map((edge) => edge.node.id);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(5);
    expectRefused(await server.client.request(MyAgentActionsDocument, { after: "garbage" }, agent.auth), "BAD_USER_INPUT", "after");
  });
});
