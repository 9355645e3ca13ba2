import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeletePolicyDocument,
  EffectivePolicyDocument,
  GrantRoleDocument,
  ReplayDecisionDocument,
  RevokeRoleDocument,
  SubmitAgentActionDocument,
  UpdatePolicyDocument,
  type AgentActionInput,
  type PolicyInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Governance you can delegate, over HTTP: what an owner writes on their own agent (without
 * policies:write) is a restriction layer, checked at every decision against the chain as it
 * is then, so it never loosens anything, also after the administrator's policies change; and
 * a locked rule can have a same-scope exception. One test per defect it fixes.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

/** The administrator's GLOBAL policy for the duration of one test (GLOBAL applies to every agent). */
async function withGlobal(input: Omit<PolicyInput, "scope">, body: (policy: { id: string; input: PolicyInput }) => Promise<void>) {
  const full: PolicyInput = { ...input, scope: "GLOBAL" };
  const policy = await createPolicy(server.client, admin, full);
  expect(policy.authority).toBe("OVERRIDE");
  try {
    await body({ id: policy.id, input: full });
  } finally {
    await server.client.ok(DeletePolicyDocument, { id: policy.id }, as(admin));
  }
}

const updateAs = (who: { accessToken: string }, id: string, input: PolicyInput) => server.client.ok(UpdatePolicyDocument, { id, input }, as(who));
const submit = (agent: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, agent.auth);

/** The reasons of a POLICY_DENIED refusal. */
function deniedBy(response: Awaited<ReturnType<typeof submit>>) {
  expectRefused(response, "POLICY_DENIED");
  return response.errors![0]!.extensions as { decisionId: string; reasons: { code: string; policyId?: string; authority?: string }[] };
}

async function ownerWithAgent() {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  return { owner, agent };
}

describe("an owner's policy is a restriction layer", () => {
  it("records the authority it was written with: RESTRICTION for an owner, OVERRIDE for policies:write", async () => {
    const { owner, agent } = await ownerWithAgent();
    const mine = await createPolicy(server.client, owner, { name: "mine", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "*", effect: "ALLOW" }] });
    const imposed = await createPolicy(server.client, admin, { name: "imposed", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "x.y", effect: "DENY" }] });
    expect([mine.authority, imposed.authority]).toEqual(["RESTRICTION", "OVERRIDE"]);
    // Accepted although it looks like loosening: it cannot loosen, and no rule of the chain allows anything.
    expect(deniedBy(await submit(agent, { action: "llm.chat", estimatedCost: "0" })).reasons[0]?.code).toBe("NO_MATCHING_RULE");
    // Locks stay for holders of policies:write.
    const locked = await server.client.request(UpdatePolicyDocument, { id: mine.id, input: { name: "mine", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "*", effect: "DENY", locked: true }] } }, as(owner));
    expectRefused(locked, "FORBIDDEN", "rules[0].locked");
    // An administrator's edit of the owner's policy keeps it a restriction.
    const edited = await updateAs(admin, mine.id, { name: "renamed", scope: "AGENT", scopeId: agent.id });
    expect(edited.updatePolicy.authority).toBe("RESTRICTION");
  });

  it("defect 1: a second, higher owner cap does not lift the admin's cap after the first is deleted", async () => {
    await withGlobal({ name: "admin budget", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: [{ per: "AGENT", window: "DAY", limit: units(5) }] }, async (global) => {
      const { owner, agent } = await ownerWithAgent();
      const first = await createPolicy(server.client, owner, { name: "five", scope: "AGENT", scopeId: agent.id, caps: [{ per: "AGENT", window: "DAY", limit: units(5) }] });
      await createPolicy(server.client, owner, { name: "thousand", scope: "AGENT", scopeId: agent.id, caps: [{ per: "AGENT", window: "DAY", limit: units(1000) }] });
      await server.client.ok(DeletePolicyDocument, { id: first.id }, as(owner));

      const denied = deniedBy(await submit(agent, { action: "llm.chat", estimatedCost: units(10) }));
      expect(denied.reasons.map((reason) => [reason.code, reason.policyId, reason.authority])).toEqual([["CAP_EXCEEDED", global.id, "OVERRIDE"]]);
      const allowed = (await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(5) } }, agent.auth)).submitAgentAction;
      expect(allowed.status).toBe("RESERVED");
    });
  });

  it("defect 2: an admin lowering the cap binds at once, below an owner's cap written under the old one", async () => {
    const caps = (limit: number) => [{ per: "AGENT" as const, window: "DAY" as const, limit: units(limit) }];
    await withGlobal({ name: "admin budget", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: caps(100) }, async (global) => {
      const { owner, agent } = await ownerWithAgent();
      const mine = await createPolicy(server.client, owner, { name: "fifty", scope: "AGENT", scopeId: agent.id, caps: caps(50) });
      await updateAs(admin, global.id, { ...global.input, caps: caps(5) });

      const { effectivePolicy: view } = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
      const day = view.caps.find((group) => group.per === "AGENT" && group.window === "DAY");
      expect(day?.applied.map((cap) => [cap.policyId, cap.limit, cap.authority])).toEqual([
        [global.id, units(5), "OVERRIDE"],
        [mine.id, units(50), "RESTRICTION"],
      ]);
      expect(day?.overridden).toEqual([]);

      const denied = deniedBy(await submit(agent, { action: "llm.chat", estimatedCost: units(10) }));
      expect(denied.reasons.map((reason) => [reason.code, reason.policyId])).toEqual([["CAP_EXCEEDED", global.id]]);
    });
  });

  it("defect 3: an ALLOW copied from a role's policy ends with the role", async () => {
    const { owner, agent } = await ownerWithAgent();
    await server.client.ok(GrantRoleDocument, { userId: owner.user.id, role: "MANAGER" }, as(admin));
    const manager = await loginUser(server.client, owner.user.email, owner.password);
    const rolePolicy = await createPolicy(server.client, admin, { name: "managers pay", scope: "ROLE", scopeId: "MANAGER", rules: [{ pattern: "payments.transfer", effect: "ALLOW" }] });
    try {
      const copy = await createPolicy(server.client, manager, { name: "my copy", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "payments.transfer", effect: "ALLOW" }] });
      expect(copy.authority).toBe("RESTRICTION");
      const before = (await server.client.ok(SubmitAgentActionDocument, { input: { action: "payments.transfer", estimatedCost: "1" } }, agent.auth)).submitAgentAction;
      expect(before.decision).toBe("ALLOWED");

      await server.client.ok(RevokeRoleDocument, { userId: owner.user.id, role: "MANAGER" }, as(admin));
      const after = deniedBy(await submit(agent, { action: "payments.transfer", estimatedCost: "1" }));
      expect(after.reasons[0]?.code).toBe("NO_MATCHING_RULE");
    } finally {
      await server.client.ok(DeletePolicyDocument, { id: rolePolicy.id }, as(admin));
    }
  });

  it("defect 4: an owner's rule does not outlive a later admin DENY or a cut cap, for either of the owner's agents", async () => {
    const caps = (limit: number) => [{ per: "AGENT" as const, window: "DAY" as const, limit: units(limit) }];
    await withGlobal({ name: "admin llm", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: caps(100) }, async (global) => {
      const { owner, agent } = await ownerWithAgent();
      const other = await createAgentWithKey(server.client, owner, "other agent");
      await createPolicy(server.client, owner, { name: "llm, 2 at most", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.*", effect: "ALLOW", maxCostPerAction: units(2) }] });

      await updateAs(admin, global.id, { ...global.input, rules: [{ pattern: "llm.*", effect: "ALLOW" }, { pattern: "llm.finetune", effect: "DENY" }], caps: caps(1) });

      for (const who of [agent, other]) {
        expect(deniedBy(await submit(who, { action: "llm.finetune", estimatedCost: "0" })).reasons.map((reason) => [reason.code, reason.policyId])).toEqual([["RULE_DENY", global.id]]);
        expect(deniedBy(await submit(who, { action: "llm.chat", estimatedCost: units(2) })).reasons.map((reason) => [reason.code, reason.policyId])).toEqual([["CAP_EXCEEDED", global.id]]);
      }
      // Within both, the layer's own limit still applies on top.
      const over = deniedBy(await submit(agent, { action: "llm.chat", estimatedCost: units(3) })).reasons.map((reason) => [reason.code, reason.authority]);
      expect(over).toContainEqual(["COST_OVER_RULE_MAX", "RESTRICTION"]);
    });
  });

  it("a layer's DENY decides, is shown as restricting in effectivePolicy, and its decision replays exactly", async () => {
    await withGlobal({ name: "admin llm", rules: [{ pattern: "llm.*", effect: "ALLOW" }] }, async () => {
      const { owner, agent } = await ownerWithAgent();
      const mine = await createPolicy(server.client, owner, { name: "no embeddings", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.embed", effect: "DENY" }] });
      const denied = deniedBy(await submit(agent, { action: "llm.embed", estimatedCost: "0" }));
      expect(denied.reasons.map((reason) => [reason.code, reason.policyId, reason.authority])).toEqual([["RULE_DENY", mine.id, "RESTRICTION"]]);

      const { effectivePolicy: view } = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
      expect(view.rules.find((entry) => entry.pattern === "llm.embed")).toMatchObject({ effect: "DENY", restricted: true, decidingRule: { policyId: mine.id, authority: "RESTRICTION" } });
      expect(view.policies.map((ref) => ref.authority).sort()).toEqual(["OVERRIDE", "OVERRIDE", "RESTRICTION"]);

      const { replayDecision } = await server.client.ok(ReplayDecisionDocument, { actionId: denied.decisionId }, as(owner));
      expect(replayDecision).toMatchObject({ recordedOutcome: "DENIED", replayedOutcome: "DENIED", matches: true });
    });
  });
});

describe("locks bind narrower scopes only", () => {
  it("defect 6: a locked family DENY with a same-scope exception, locked or not, that no narrower scope can widen", async () => {
    const family = { pattern: "llm.*", effect: "DENY" as const, locked: true };
    await withGlobal({ name: "no llm but chat", rules: [family, { pattern: "llm.chat", effect: "ALLOW" }] }, async (global) => {
      const { agent } = await ownerWithAgent();
      const chat = async () => (await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: "0" } }, agent.auth)).submitAgentAction;
      expect((await chat()).decision).toBe("ALLOWED");
      expect(deniedBy(await submit(agent, { action: "llm.completion", estimatedCost: "0" })).reasons[0]?.code).toBe("RULE_DENY");

      await updateAs(admin, global.id, { ...global.input, rules: [family, { pattern: "llm.chat", effect: "ALLOW", locked: true }] });
      expect((await chat()).decision).toBe("ALLOWED");

      // An administrator's narrower ALLOW cannot reach the rest of the locked family.
      await createPolicy(server.client, admin, { name: "agent llm", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.*", effect: "ALLOW" }] });
      expect(deniedBy(await submit(agent, { action: "llm.completion", estimatedCost: "0" })).reasons.map((reason) => [reason.code, reason.policyId])).toEqual([["RULE_DENY", global.id]]);
      expect((await chat()).decision).toBe("ALLOWED");
    });
  });
});
