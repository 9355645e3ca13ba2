import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, auditEvents } from "../../src/db/schema";
import {
  ApproveAgentActionDocument,
  GrantRoleDocument,
  ReplayDecisionDocument,
  SubmitAgentActionDocument,
  UpdatePolicyDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * An approval re-decides a held action: that re-decision is a decision of its own, recorded
 * and audited like a submission, and `replayDecision` replays the decision that held (the
 * approval's), naming its stage, beside the submission's.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
let manager: SessionCredentialsFragment;

beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const user = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: user.user.id, role: "MANAGER" }, as(admin));
  manager = await loginUser(server.client, user.user.email, user.password);
});
afterAll(() => server.close());

const POLICY = (agentId: string, dayCap: number) => ({
  name: "payments need a human",
  scope: "AGENT" as const,
  scopeId: agentId,
  rules: [
    { pattern: "payments.*", effect: "REQUIRE_APPROVAL" as const },
    { pattern: "llm.*", effect: "ALLOW" as const },
  ],
  caps: [{ per: "AGENT" as const, window: "DAY" as const, limit: units(dayCap) }],
});

/** An owner's agent: payments.* held for approval, llm.* allowed, an AGENT/DAY cap. */
async function heldAgent(dayCap: number): Promise<AgentWithKey & { policyId: string }> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  const policy = await createPolicy(server.client, admin, POLICY(agent.id, dayCap));
  return { ...agent, policyId: policy.id };
}

const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;
const replay = async (actionId: string) => (await server.client.ok(ReplayDecisionDocument, { actionId }, as(manager))).replayDecision;

async function auditDetails(actionId: string, action: string): Promise<Record<string, any>> {
  const rows = await server.app.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.targetId, actionId), eq(auditEvents.action, action)));
  expect(rows).toHaveLength(1);
  return rows[0]!.details as Record<string, any>;
}

/** Rewrites the stored decision record of an action, as someone tampering with it would. */
async function tamper(actionId: string, change: (record: Record<string, any>) => void): Promise<void> {
  const db = server.app.database.db;
  const [row] = await db.select().from(agentActions).where(eq(agentActions.id, actionId));
  const record = structuredClone(row!.record) as Record<string, any>;
  change(record);
  await db.update(agentActions).set({ record }).where(eq(agentActions.id, actionId));
}

describe("a decision taken at approval", () => {
  it("a denial at approval replays as the approval's decision, and a tampered approval record does not match", async () => {
    const agent = await heldAgent(10);
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(6) });
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "POLICY_DENIED");

    const replayed = await replay(held.id);
    expect(replayed).toMatchObject({ actionId: held.id, stage: "APPROVAL", recordedOutcome: "DENIED", replayedOutcome: "DENIED", matches: true });
    expect(replayed.reasons).toEqual([expect.objectContaining({ code: "CAP_EXCEEDED", per: "AGENT", limit: units(10), spent: units(5) })]);
    expect(replayed.stages.map((stage) => [stage.stage, stage.recordedOutcome, stage.replayedOutcome, stage.matches])).toEqual([
      ["SUBMISSION", "PENDING_APPROVAL", "PENDING_APPROVAL", true],
      ["APPROVAL", "DENIED", "DENIED", true],
    ]);
    expect(Date.parse(replayed.stages[1]!.decidedAt)).toBeGreaterThanOrEqual(Date.parse(replayed.stages[0]!.decidedAt));

    // The approval's audit row carries what the submission's does, for its own decision.
    const submission = await auditDetails(held.id, "agent.action.decided");
    const approval = await auditDetails(held.id, "agent.action.approved");
    for (const key of Object.keys(submission).filter((key) => key !== "stage")) expect(approval).toHaveProperty(key);
    expect(submission.stage).toBe("SUBMISSION");
    expect(approval).toMatchObject({ stage: "APPROVAL", outcome: "DENIED", input: { action: "payments.transfer", estimatedCost: units(6) } });
    expect(approval.caps).toEqual([expect.objectContaining({ per: "AGENT", limit: units(10), spentBefore: units(5), spentAfter: units(5), fits: false })]);
    const [stored] = await server.app.database.db.select().from(agentActions).where(eq(agentActions.id, held.id));
    const record = stored!.record as Record<string, any>;
    expect(approval.decisionSha256).toBe(record.approval.decisionSha256);
    expect(submission.decisionSha256).toBe(record.decisionSha256);

    // Spend rewritten to nothing: the approval would have reserved, not what was recorded.
    await tamper(held.id, (tampered) => {
      tampered.approval.spend = tampered.approval.spend.map(() => "0");
    });
    const after = await replay(held.id);
    expect(after).toMatchObject({ stage: "APPROVAL", recordedOutcome: "DENIED", replayedOutcome: "ALLOWED", matches: false });
    expect(after.stages.map((stage) => stage.matches)).toEqual([true, false]);
  });

  it("an approval that allows replays too, on the policy version of the approval", async () => {
    const agent = await heldAgent(10);
    const held = await submitOk(agent, { action: "payments.transfer", estimatedCost: units(4) });
    // The cap is raised between the submission and the approval: each stage replays on its own version.
    await server.client.ok(UpdatePolicyDocument, { id: agent.policyId, input: POLICY(agent.id, 20) }, as(admin));
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(9) });
    const approved = (await server.client.ok(ApproveAgentActionDocument, { id: held.id }, as(manager))).approveAgentAction;
    expect(approved.status).toBe("RESERVED");

    const replayed = await replay(held.id);
    expect(replayed).toMatchObject({ stage: "APPROVAL", recordedOutcome: "ALLOWED", replayedOutcome: "ALLOWED", matches: true });
    expect(replayed.stages.map((stage) => [stage.stage, stage.recordedOutcome, stage.matches])).toEqual([
      ["SUBMISSION", "PENDING_APPROVAL", true],
      ["APPROVAL", "ALLOWED", true],
    ]);
    const approval = await auditDetails(held.id, "agent.action.approved");
    expect(approval).toMatchObject({ stage: "APPROVAL", outcome: "ALLOWED" });
    expect(approval.policies).toContainEqual(expect.objectContaining({ id: agent.policyId, version: 2 }));
    expect(approval.caps).toEqual([expect.objectContaining({ limit: units(20), spentBefore: units(9), spentAfter: units(13), fits: true })]);

    // A tampered submission is not hidden by an intact approval.
    await tamper(held.id, (tampered) => {
      tampered.request.estimatedCost = units(40);
    });
    const after = await replay(held.id);
    expect(after.matches).toBe(false);
    expect(after.stages.map((stage) => stage.matches)).toEqual([false, true]);
  });

  it("an action never held replays its submission alone", async () => {
    const agent = await heldAgent(10);
    const allowed = await submitOk(agent, { action: "llm.completion", estimatedCost: units(1) });
    const replayed = await replay(allowed.id);
    expect(replayed).toMatchObject({ stage: "SUBMISSION", recordedOutcome: "ALLOWED", replayedOutcome: "ALLOWED", matches: true });
    expect(replayed.stages).toHaveLength(1);
  });
});
