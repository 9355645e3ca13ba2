import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ApproveAgentActionDocument,
  CancelAgentActionDocument,
  CreatePolicyDocument,
  ReplayDecisionDocument,
  StartRunDocument,
  SubmitAgentActionDocument,
  type AgentActionInput,
  type PolicyInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import type { GraphQLResponse } from "../support/graphql-client";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * The kinds of caps beyond "spend per counter and window": caps scoped to a pattern
 * (`payments.*` next to an unscoped cap), velocity caps (a number of actions in a MINUTE),
 * and soft caps (held for approval instead of denied), through the real server: exact
 * under concurrency, named in the reasons, replayable, and refused when written wrong.
 */
const clock = new ManualClock(new Date("2026-05-04T10:00:10.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;

beforeAll(async () => {
  server = await startTestServer({ clock });
});
beforeEach(async () => {
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

/** A new owner's agent under an AGENT policy with these rules and caps, written by the admin. */
async function agentUnder(caps: PolicyInput["caps"], rules: PolicyInput["rules"] = [{ pattern: "*", effect: "ALLOW" }]): Promise<AgentWithKey> {
  const agent = await createAgentWithKey(server.client, await registerUser(server.client));
  await createPolicy(server.client, admin, { name: "limits", scope: "AGENT", scopeId: agent.id, rules, caps });
  return agent;
}

const submit = (agent: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;
type Reason = { code: string; capId?: string; per?: string; window?: string; limit?: string; spent?: string; message: string };
const reasonsOf = (response: GraphQLResponse<unknown>) => (response.errors?.[0]?.extensions as { reasons?: Reason[] } | undefined)?.reasons ?? [];

describe("a cap scoped to a pattern", () => {
  it("counts and checks only matching actions, beside an unscoped cap of the same window", async () => {
    const agent = await agentUnder([
      { per: "AGENT", window: "DAY", limit: units(100) },
      { per: "AGENT", window: "DAY", limit: units(10), pattern: "payments.*" },
    ]);
    expect(await submitOk(agent, { action: "payments.transfer", estimatedCost: units(6) })).toMatchObject({ decision: "ALLOWED" });
    // 50 units of llm spend do not touch the payments cap...
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: units(50) })).toMatchObject({ decision: "ALLOWED" });
    // ...but count on the unscoped one, and the next payment finds 6 of its 10 units spent.
    const refused = await submit(agent, { action: "payments.refund", estimatedCost: units(5) });
    expectRefused(refused, "POLICY_DENIED");
    const reasons = reasonsOf(refused);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: "CAP_EXCEEDED", per: "AGENT", window: "DAY", limit: units(10), spent: units(6) });
    expect(reasons[0]!.message).toContain("actions 'payments.*'");
    expect(await submitOk(agent, { action: "payments.refund", estimatedCost: units(4) })).toMatchObject({ decision: "ALLOWED" });
    // The unscoped cap has 100 - 60 = 40 left, whatever the pattern cap says.
    expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: units(41) }), "POLICY_DENIED");
  });

  it("decides concurrent actions exactly: the pattern cap's room goes to exactly as many as fit", async () => {
    const agent = await agentUnder([{ per: "AGENT", window: "DAY", limit: units(7), pattern: "payments.*" }]);
    const results = await Promise.all(Array.from({ length: 20 }, () => submit(agent, { action: "payments.transfer", estimatedCost: units(1) })));
    expect(results.filter((result) => result.data?.submitAgentAction?.decision === "ALLOWED")).toHaveLength(7);
    expect(results.filter((result) => result.errors?.[0]?.extensions?.code === "POLICY_DENIED")).toHaveLength(13);
  });
});

describe("a velocity cap (maxActions)", () => {
  it("allows that many actions in the window whatever they cost, counts cancelled ones, and opens again in the next window", async () => {
    const agent = await agentUnder([{ per: "AGENT", window: "MINUTE", maxActions: 3, pattern: "llm.*" }]);
    const first = await submitOk(agent, { action: "llm.chat", estimatedCost: "0" });
    await submitOk(agent, { action: "llm.chat", estimatedCost: units(1) });
    await server.client.ok(CancelAgentActionDocument, { id: first.id }, agent.auth);
    await submitOk(agent, { action: "llm.embed", estimatedCost: "0" });
    // Other actions do not count against an llm.* velocity cap.
    await submitOk(agent, { action: "email.send", estimatedCost: "0" });

    const refused = await submit(agent, { action: "llm.chat", estimatedCost: "0" });
    expectRefused(refused, "POLICY_DENIED");
    expect(reasonsOf(refused)[0]).toMatchObject({ code: "CAP_EXCEEDED", per: "AGENT", window: "MINUTE", limit: "3", spent: "3" });
    expect(reasonsOf(refused)[0]!.message).toContain("at most 3 actions");

    clock.advance(60_000);
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: "0" })).toMatchObject({ decision: "ALLOWED" });
  });

  it("stops a burst of concurrent actions at exactly its limit, and its decisions replay", async () => {
    clock.advance(60_000);
    const agent = await agentUnder([{ per: "AGENT", window: "MINUTE", maxActions: 5 }]);
    const results = await Promise.all(Array.from({ length: 25 }, () => submit(agent, { action: "tool.call", estimatedCost: "0" })));
    const allowed = results.flatMap((result) => (result.data?.submitAgentAction?.decision === "ALLOWED" ? [result.data.submitAgentAction.id] : []));
    expect(allowed).toHaveLength(5);
    const replay = (await server.client.ok(ReplayDecisionDocument, { actionId: allowed[4]! }, as(admin))).replayDecision;
    expect(replay).toMatchObject({ matches: true, recordedOutcome: "ALLOWED", replayedOutcome: "ALLOWED" });
  });
});

describe("a cap per RUN", () => {
  it("gives each run its own budget; actions outside a run do not count; a velocity cap per RUN counts the run's actions", async () => {
    const agent = await agentUnder([
      { per: "RUN", window: "TOTAL", limit: units(5) },
      { per: "RUN", window: "MINUTE", maxActions: 3 },
    ]);
    const start = async (name: string) => (await server.client.ok(StartRunDocument, { input: { name } }, agent.auth)).startRun.id;
    const [first, second] = [await start("first"), await start("second")];
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: units(4), runId: first })).toMatchObject({ decision: "ALLOWED" });
    const over = await submit(agent, { action: "llm.chat", estimatedCost: units(2), runId: first });
    expect(reasonsOf(over)[0]).toMatchObject({ code: "CAP_EXCEEDED", per: "RUN", window: "TOTAL", limit: units(5), spent: units(4) });
    // Another run has its own 5 units; an action outside any run is not counted by RUN caps.
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: units(5), runId: second })).toMatchObject({ decision: "ALLOWED" });
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: units(50) })).toMatchObject({ decision: "ALLOWED" });
    // The first run has taken 1 action (the refused one does not count); 2 more fit its MINUTE.
    await submitOk(agent, { action: "llm.chat", estimatedCost: "0", runId: first });
    await submitOk(agent, { action: "llm.chat", estimatedCost: "0", runId: first });
    expect(reasonsOf(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId: first }))[0]).toMatchObject({ per: "RUN", window: "MINUTE", limit: "3" });
  });
});

describe("a soft cap", () => {
  it("holds an action that would exceed it for approval; hard caps above it still deny; approval reserves past it", async () => {
    const agent = await agentUnder([
      { per: "AGENT", window: "DAY", limit: units(10), soft: true },
      { per: "AGENT", window: "WEEK", limit: units(20) },
    ]);
    await submitOk(agent, { action: "llm.chat", estimatedCost: units(8) });
    const held = await submitOk(agent, { action: "llm.chat", estimatedCost: units(5) });
    expect(held).toMatchObject({ decision: "PENDING_APPROVAL", status: "PENDING_APPROVAL", reserved: "0" });
    expect(held.reasons.map((reason) => reason.code)).toEqual(["SOFT_CAP_EXCEEDED"]);

    // Past the hard WEEK cap it is denied, soft cap or not.
    const denied = await submit(agent, { action: "llm.chat", estimatedCost: units(15) });
    expectRefused(denied, "POLICY_DENIED");
    expect(reasonsOf(denied).map((reason) => reason.code)).toEqual(["CAP_EXCEEDED"]);

    const approved = (await server.client.ok(ApproveAgentActionDocument, { id: held.id }, as(admin))).approveAgentAction;
    expect(approved).toMatchObject({ status: "RESERVED", reserved: units(5) });
    // 13 of the soft 10 are now spent: the next action is held again, not denied.
    expect(await submitOk(agent, { action: "llm.chat", estimatedCost: units(1) })).toMatchObject({ decision: "PENDING_APPROVAL" });
  });
});

describe("writing such caps", () => {
  it("refuses what cannot be counted or makes no sense, naming the field, and writes nothing", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    const write = (caps: PolicyInput["caps"], scope: PolicyInput["scope"] = "AGENT") =>
      server.client.request(CreatePolicyDocument, { input: { name: "bad", scope, scopeId: scope === "AGENT" ? agent.id : owner.user.id, caps } }, as(admin));
    expectRefused(await write([{ per: "OWNER", window: "DAY", limit: units(1), pattern: "llm.*" }]), "BAD_USER_INPUT", "caps[0].per");
    expectRefused(await write([{ per: "OWNER", window: "MINUTE", maxActions: 3 }]), "BAD_USER_INPUT", "caps[0].per");
    expectRefused(await write([{ per: "AGENT", window: "DAY", limit: units(1), maxActions: 3 }]), "BAD_USER_INPUT", "caps[0].limit");
    expectRefused(await write([{ per: "AGENT", window: "DAY" }]), "BAD_USER_INPUT", "caps[0].limit");
    expectRefused(await write([{ per: "AGENT", window: "DAY", maxActions: -1 }]), "BAD_USER_INPUT", "caps[0].maxActions");
    expectRefused(await write([{ per: "AGENT", window: "DAY", limit: units(1), thresholds: [0] }]), "BAD_USER_INPUT", "caps[0].thresholds");
    expectRefused(await write([{ per: "AGENT", window: "DAY", limit: units(1), pattern: "llm.**" }]), "BAD_USER_INPUT", "caps[0].pattern");
    expectRefused(
      await write([
        { per: "AGENT", window: "DAY", limit: units(1), pattern: "llm.*" },
        { per: "AGENT", window: "DAY", limit: units(2), pattern: "llm.*" },
      ]),
      "BAD_USER_INPUT",
      "caps[1].window",
    );
    // Per OWNER with a pattern is fine where every agent of the owner sees it: a USER policy.
    const created = (await server.client.ok(CreatePolicyDocument, { input: { name: "owner llm", scope: "USER", scopeId: owner.user.id, caps: [{ per: "OWNER", window: "DAY", limit: units(1), pattern: "llm.*", thresholds: [80, 50, 80] }] } }, as(admin))).createPolicy;
    expect(created.caps[0]).toMatchObject({ per: "OWNER", measure: "COST", pattern: "llm.*", soft: false, thresholds: [50, 80] });
  });
});
