import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrincipalVersions } from "../../src/auth/principal-versions";
import type { BuiltInRole } from "../../src/auth/roles";
import { auditEvents, policies, roleInherits, roles, userRoles } from "../../src/db/schema";
import { DEFAULT_POLICY_ID } from "../../src/policies/policy-codec";
import {
  CreatePolicyDocument,
  DeletePolicyDocument,
  EffectivePolicyDocument,
  PoliciesDocument,
  PolicyByIdDocument,
  PolicyVersionsDocument,
  SetPolicyEnabledDocument,
  SetPolicyModeDocument,
  UpdatePolicyDocument,
  type PolicyInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { as, expectRefused } from "../support/assertions";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Who may read and write which policies, the owner's bounds, the effective policy of an
 * agent and the chain the evaluator gets (policy-access.ts, owner-bounds.ts).
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());



/** A registered user holding `role` (stored directly, as a seed builder would). */
async function userWithRole(role: BuiltInRole | string) {
  const user = await registerUser(server.client);
  if (role !== "USER") {
    await server.app.database.db.insert(userRoles).values({ userId: user.user.id, roleName: role });
    await createPrincipalVersions(server.app.store).bumpUser(user.user.id);
  }
  return user;
}

async function createAgent(owner: { accessToken: string }): Promise<{ id: string; ownerId: string }> {
  const data = await server.client.ok<{ createAgent: { id: string; ownerId: string } }, unknown>(
    `mutation { createAgent(input: { name: "policy bot" }) { id ownerId } }`,
    {},
    as(owner),
  );
  return data.createAgent;
}

async function createAs(who: { accessToken: string }, input: PolicyInput) {
  return (await server.client.ok(CreatePolicyDocument, { input }, as(who))).createPolicy;
}

const policyCount = async () => (await server.app.database.db.select({ id: policies.id }).from(policies)).length;
const policyAuditCount = async () =>
  (await server.app.database.db.select({ seq: auditEvents.seq }).from(auditEvents).where(like(auditEvents.action, "policy.%"))).length;

describe("who may write", () => {
  it("an administrator writes every scope", async () => {
    const someone = await registerUser(server.client);
    const agent = await createAgent(someone);
    const inputs: PolicyInput[] = [
      { name: "g", scope: "GLOBAL", enabled: false, rules: [{ pattern: "x.y", effect: "DENY", locked: true }] },
      { name: "r", scope: "ROLE", scopeId: "COMPLIANCE_OFFICER", rules: [{ pattern: "x.y", effect: "ALLOW" }] },
      { name: "u", scope: "USER", scopeId: someone.user.id, caps: [{ per: "OWNER", window: "DAY", limit: "5", locked: true }] },
      { name: "a", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "*", effect: "ALLOW" }] },
    ];
    for (const input of inputs) {
      const created = await createAs(admin, input);
      expect(created).toMatchObject({ scope: input.scope, scopeId: input.scopeId ?? null, version: 1, createdBy: admin.user.id });
      await server.client.ok(DeletePolicyDocument, { id: created.id }, as(admin));
    }
  });

  it("a plain user writes AGENT policies of their own agents only, never locked; what they write is a restriction layer", async () => {
    const owner = await userWithRole("USER");
    const stranger = await userWithRole("USER");
    const mine = await createAgent(owner);
    const theirs = await createAgent(stranger);
    // What the broader scopes allow this owner's agents: llm.* (max 50 per action, 1000 per agent per day).
    await createAs(admin, {
      name: "owner's allowance",
      scope: "USER",
      scopeId: owner.user.id,
      rules: [{ pattern: "llm.*", effect: "ALLOW", maxCostPerAction: "50" }],
      caps: [{ per: "AGENT", window: "DAY", limit: "1000" }],
    });
    const before = { policies: await policyCount(), audit: await policyAuditCount() };

    const refusals: [PolicyInput, string, string | undefined][] = [
      [{ name: "x", scope: "GLOBAL", rules: [{ pattern: "*", effect: "DENY" }] }, "FORBIDDEN", undefined],
      [{ name: "x", scope: "ROLE", scopeId: "USER" }, "FORBIDDEN", undefined],
      [{ name: "x", scope: "USER", scopeId: owner.user.id }, "FORBIDDEN", undefined],
      [{ name: "x", scope: "AGENT", scopeId: theirs.id, rules: [{ pattern: "*", effect: "DENY" }] }, "FORBIDDEN", "scopeId"],
      [{ name: "x", scope: "AGENT", scopeId: "00000000-0000-4000-8000-0000000000ff" }, "FORBIDDEN", "scopeId"],
      [{ name: "x", scope: "AGENT", scopeId: mine.id, rules: [{ pattern: "*", effect: "DENY", locked: true }] }, "FORBIDDEN", "rules[0].locked"],
      [{ name: "x", scope: "AGENT", scopeId: mine.id, caps: [{ per: "AGENT", window: "HOUR", limit: "1", locked: true }] }, "FORBIDDEN", "caps[0].locked"],
    ];
    for (const [input, code, field] of refusals) {
      const response = await server.client.request(CreatePolicyDocument, { input }, as(owner));
      expect(response.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject(field ? { code, field } : { code });
    }
    expect({ policies: await policyCount(), audit: await policyAuditCount() }).toEqual(before);

    const restricting = await createAs(owner, {
      name: "my bot's limits",
      scope: "AGENT",
      scopeId: mine.id,
      rules: [
        { pattern: "llm.completion", effect: "ALLOW", maxCostPerAction: "20" },
        { pattern: "llm.image.*", effect: "REQUIRE_APPROVAL", maxCostPerAction: "50" },
        { pattern: "*", effect: "DENY" },
      ],
      caps: [
        { per: "AGENT", window: "DAY", limit: "300" },
        { per: "OWNER", window: "MONTH", limit: "999999999" },
      ],
    });
    expect(restricting).toMatchObject({ version: 1, createdBy: owner.user.id, authority: "RESTRICTION" });

    // The owner edits, disables and deletes their own policy (a layer: whatever it says, it cannot loosen).
    const input = { name: "my bot's limits", scope: "AGENT" as const, scopeId: mine.id };
    const looserLooking = await server.client.ok(UpdatePolicyDocument, { id: restricting.id, input: { ...input, rules: [{ pattern: "llm.*", effect: "ALLOW" }] }, expectedVersion: 1 }, as(owner));
    expect(looserLooking.updatePolicy).toMatchObject({ version: 2, authority: "RESTRICTION" });
    const edited = await server.client.ok(UpdatePolicyDocument, { id: restricting.id, input: { ...input, caps: [] }, expectedVersion: 2 }, as(owner));
    expect(edited.updatePolicy).toMatchObject({ version: 3, caps: [] });
    await server.client.ok(SetPolicyModeDocument, { id: restricting.id, mode: "SHADOW" }, as(owner));
    await server.client.ok(SetPolicyEnabledDocument, { id: restricting.id, enabled: false }, as(owner));

    // Not someone else's agent's policies, nor broader ones.
    const strangers = await createAs(stranger, { name: "theirs", scope: "AGENT", scopeId: theirs.id, rules: [{ pattern: "*", effect: "DENY" }] });
    expectRefused(await server.client.request(DeletePolicyDocument, { id: strangers.id }, as(owner)), "NOT_FOUND");
    expectRefused(await server.client.request(SetPolicyEnabledDocument, { id: strangers.id, enabled: false }, as(owner)), "NOT_FOUND");
    expectRefused(await server.client.request(DeletePolicyDocument, { id: DEFAULT_POLICY_ID }, as(owner)), "NOT_FOUND");
    const [allowance] = (await server.client.ok(PoliciesDocument, { scope: "USER", scopeId: owner.user.id }, as(owner))).policies;
    expectRefused(await server.client.request(SetPolicyEnabledDocument, { id: allowance?.id ?? "", enabled: false }, as(owner)), "FORBIDDEN");

    // A policy an administrator wrote on the owner's agent binds the owner.
    const imposed = await createAs(admin, { name: "imposed", scope: "AGENT", scopeId: mine.id, rules: [{ pattern: "llm.completion", effect: "DENY" }] });
    expectRefused(await server.client.request(DeletePolicyDocument, { id: imposed.id }, as(owner)), "FORBIDDEN");
    const rewrite = await server.client.request(UpdatePolicyDocument, { id: imposed.id, input: { ...input, name: "imposed", rules: [] } }, as(owner));
    expectRefused(rewrite, "FORBIDDEN");
    // ... and what it denies the owner's layer cannot allow (the decision tests: policies-restriction.test.ts).
    const behind = await server.client.ok(UpdatePolicyDocument, { id: restricting.id, input: { ...input, rules: [{ pattern: "llm.completion", effect: "ALLOW", maxCostPerAction: "5" }] } }, as(owner));
    expect(behind.updatePolicy.authority).toBe("RESTRICTION");

    expect((await server.client.ok(DeletePolicyDocument, { id: restricting.id }, as(owner))).deletePolicy.deletedAt).not.toBeNull();
  });

  it("an owner's policy enabled again or put back in ENFORCE mode is accepted and stays a restriction", async () => {
    const owner = await userWithRole("USER");
    const agent = await createAgent(owner);
    const allowance = await createAs(admin, { name: "allow llm", scope: "USER", scopeId: owner.user.id, rules: [{ pattern: "llm.*", effect: "ALLOW" }] });
    const mine = await createAs(owner, { name: "mine", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.chat", effect: "ALLOW" }] });
    await server.client.ok(SetPolicyEnabledDocument, { id: mine.id, enabled: false }, as(owner));
    await server.client.ok(SetPolicyModeDocument, { id: mine.id, mode: "SHADOW" }, as(owner));
    await server.client.ok(SetPolicyEnabledDocument, { id: allowance.id, enabled: false }, as(admin));

    await server.client.ok(SetPolicyEnabledDocument, { id: mine.id, enabled: true }, as(owner));
    const enforced = (await server.client.ok(SetPolicyModeDocument, { id: mine.id, mode: "ENFORCE" }, as(owner))).setPolicyMode;
    expect(enforced).toMatchObject({ mode: "ENFORCE", authority: "RESTRICTION" });
    const { effectivePolicy: view } = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
    expect(view.rules.find((rule) => rule.pattern === "llm.chat")).toMatchObject({ effect: "DENY", decidingRule: null });
  });

  it("policies:read does not confer writing beyond an owner's", async () => {
    const manager = await userWithRole("MANAGER");
    const agent = await createAgent(manager);
    expectRefused(await server.client.request(CreatePolicyDocument, { input: { name: "x", scope: "GLOBAL" } }, as(manager)), "FORBIDDEN");
    const layer = await createAs(manager, { name: "x", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "*", effect: "ALLOW" }] });
    expect(layer.authority).toBe("RESTRICTION");
    expectRefused(await server.client.request(UpdatePolicyDocument, { id: DEFAULT_POLICY_ID, input: { name: "Default", scope: "GLOBAL" } }, as(manager)), "FORBIDDEN");
  });
});

describe("who may read", () => {
  it("policies:read holders read everything; owners their USER policy and their agents' policies", async () => {
    const owner = await userWithRole("USER");
    const other = await userWithRole("USER");
    const agent = await createAgent(owner);
    const otherAgent = await createAgent(other);
    const userPolicy = await createAs(admin, { name: "owner user", scope: "USER", scopeId: owner.user.id });
    const agentPolicy = await createAs(admin, { name: "owner agent", scope: "AGENT", scopeId: agent.id });
    const otherPolicy = await createAs(admin, { name: "other agent", scope: "AGENT", scopeId: otherAgent.id });
    const rolePolicy = await createAs(admin, { name: "role", scope: "ROLE", scopeId: "MANAGER" });

    const seen = async (who: { accessToken: string }) =>
      new Set((await server.client.ok(PoliciesDocument, {}, as(who))).policies.map((policy) => policy.id));
    const ownerSees = await seen(owner);
    expect(ownerSees).toEqual(new Set([userPolicy.id, agentPolicy.id]));
    for (const reader of [await userWithRole("MANAGER"), await userWithRole("COMPLIANCE_OFFICER"), admin]) {
      const all = await seen(reader);
      for (const id of [userPolicy.id, agentPolicy.id, otherPolicy.id, rolePolicy.id, DEFAULT_POLICY_ID]) expect(all.has(id)).toBe(true);
      expect((await server.client.ok(PolicyVersionsDocument, { id: otherPolicy.id }, as(reader))).policyVersions).toHaveLength(1);
    }
    expect((await server.client.ok(PolicyByIdDocument, { id: agentPolicy.id }, as(owner))).policy?.id).toBe(agentPolicy.id);
    for (const hidden of [otherPolicy.id, rolePolicy.id, DEFAULT_POLICY_ID]) {
      expect((await server.client.ok(PolicyByIdDocument, { id: hidden }, as(owner))).policy).toBeNull();
      expectRefused(await server.client.request(PolicyVersionsDocument, { id: hidden }, as(owner)), "NOT_FOUND");
    }
    expect(errorCode(await server.client.request(PoliciesDocument, {}))).toBe("UNAUTHENTICATED");
  });
});

describe("effectivePolicy", () => {
  it("explains a three-level chain: a locked GLOBAL DENY, a USER ALLOW with a DAY cap, a tighter AGENT rule and cap", async () => {
    const owner = await userWithRole("USER");
    const agent = await createAgent(owner);
    const global = await createAs(admin, { name: "no payments", scope: "GLOBAL", rules: [{ pattern: "payments.*", effect: "DENY", locked: true }] });
    const user = await createAs(admin, {
      name: "llm for this user",
      scope: "USER",
      scopeId: owner.user.id,
      rules: [{ pattern: "llm.*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: "1000000" }],
    });
    const own = await createAs(owner, {
      name: "completion only, cheaper",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "llm.completion", effect: "ALLOW", maxCostPerAction: "5000" }],
      caps: [{ per: "AGENT", window: "DAY", limit: "200000" }],
    });
    // The owner's payments ALLOW is a layer, which allows nothing; an administrator's AGENT ALLOW is still overruled by the lock.
    const payments = { name: "pay", scope: "AGENT" as const, scopeId: agent.id, rules: [{ pattern: "payments.transfer", effect: "ALLOW" as const }] };
    const ownPayments = await createAs(owner, payments);
    const override = await createAs(admin, payments);

    const { effectivePolicy: view } = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
    expect(view).toMatchObject({ agentId: agent.id, ownerId: owner.user.id, ownerRoles: ["USER"] });
    expect(view.policies.map((policy) => policy.id)).toEqual(expect.arrayContaining([DEFAULT_POLICY_ID, global.id, user.id, own.id, ownPayments.id, override.id]));
    expect(view.policies.find((policy) => policy.id === own.id)?.authority).toBe("RESTRICTION");
    expect(view.policies.map((policy) => policy.scope)).toEqual([...view.policies.map((policy) => policy.scope)].sort((a, b) => ["GLOBAL", "ROLE", "USER", "AGENT"].indexOf(a) - ["GLOBAL", "ROLE", "USER", "AGENT"].indexOf(b)));

    const entry = (pattern: string) => view.rules.find((candidate) => candidate.pattern === pattern);
    expect(view.rules.map((candidate) => candidate.pattern)).toEqual(["llm.completion", "payments.transfer", "llm.*", "payments.*"]);
    // The owner's layer does not decide what the chain allows; its max cost applies on top.
    expect(entry("llm.completion")).toMatchObject({
      effect: "ALLOW",
      lockedOverride: false,
      restricted: false,
      maxCostPerAction: "5000",
      decidingRule: { policyId: user.id, scope: "USER", pattern: "llm.*", authority: "OVERRIDE" },
      rules: [{ status: "APPLIES", rule: { policyId: own.id, authority: "RESTRICTION" }, by: { policyId: user.id } }],
    });
    expect(entry("llm.*")).toMatchObject({ effect: "ALLOW", maxCostPerAction: null, decidingRule: { policyId: user.id, scope: "USER" } });
    expect(entry("payments.*")).toMatchObject({ effect: "DENY", decidingRule: { policyId: global.id, scope: "GLOBAL", locked: true } });
    expect(entry("payments.transfer")).toMatchObject({
      effect: "DENY",
      lockedOverride: true,
      decidingRule: { policyId: global.id, pattern: "payments.*", locked: true },
      rules: [
        { status: "APPLIES", rule: { policyId: override.id }, by: { policyId: global.id } },
        { status: "APPLIES", rule: { policyId: ownPayments.id, authority: "RESTRICTION" }, by: { policyId: global.id } },
      ],
    });

    expect(view.caps).toEqual([
      {
        per: "AGENT",
        window: "DAY",
        measure: "COST",
        pattern: null,
        decidingScope: "USER",
        applied: [
          expect.objectContaining({ policyId: user.id, limit: "1000000", authority: "OVERRIDE" }),
          expect.objectContaining({ policyId: own.id, limit: "200000", locked: false, authority: "RESTRICTION" }),
        ],
        overridden: [],
      },
    ]);

    // policies:read holders see it too; another user does not learn the agent exists.
    const manager = await userWithRole("MANAGER");
    expect((await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(manager))).effectivePolicy).toEqual(view);
    const stranger = await userWithRole("USER");
    expectRefused(await server.client.request(EffectivePolicyDocument, { agentId: agent.id }, as(stranger)), "NOT_FOUND");
  });

  it("shows SHADOW policies only in the would-be view", async () => {
    const owner = await userWithRole("USER");
    const agent = await createAgent(owner);
    const shadow = await createAs(admin, { name: "trial", scope: "AGENT", scopeId: agent.id, mode: "SHADOW", rules: [{ pattern: "email.send", effect: "ALLOW" }] });
    const enforced = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
    expect(enforced.effectivePolicy.policies.map((policy) => policy.id)).not.toContain(shadow.id);
    const wouldBe = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id, includeShadow: true }, as(owner));
    expect(wouldBe.effectivePolicy.rules.find((rule) => rule.pattern === "email.send")?.decidingRule).toMatchObject({ policyId: shadow.id, mode: "SHADOW" });
  });
});

describe("chainFor", () => {
  it("takes the owner's ROLE policies closed over inheritance, and leaves disabled, deleted and unrelated ones out", async () => {
    const { db } = server.app.database;
    await db.insert(roles).values({ name: "POLICY_DEPUTY", description: "inherits MANAGER", permissions: [] });
    await db.insert(roleInherits).values({ roleName: "POLICY_DEPUTY", parentName: "MANAGER" });
    await createPrincipalVersions(server.app.store).bumpRoles();
    const owner = await userWithRole("POLICY_DEPUTY");
    const agent = await createAgent(owner);
    const otherAgent = await createAgent(owner);

    const manager = await createAs(admin, { name: "managers", scope: "ROLE", scopeId: "MANAGER", rules: [{ pattern: "reports.*", effect: "ALLOW" }] });
    const deputy = await createAs(admin, { name: "deputies", scope: "ROLE", scopeId: "POLICY_DEPUTY" });
    const off = await createAs(admin, { name: "managers, off", scope: "ROLE", scopeId: "MANAGER", enabled: false });
    const gone = await createAs(admin, { name: "managers, deleted", scope: "ROLE", scopeId: "MANAGER" });
    await server.client.ok(DeletePolicyDocument, { id: gone.id }, as(admin));
    const compliance = await createAs(admin, { name: "compliance", scope: "ROLE", scopeId: "COMPLIANCE_OFFICER" });
    const userPolicy = await createAs(admin, { name: "owner", scope: "USER", scopeId: owner.user.id });
    const agentPolicy = await createAs(admin, { name: "this agent", scope: "AGENT", scopeId: agent.id, mode: "SHADOW" });
    const otherAgentPolicy = await createAs(admin, { name: "other agent", scope: "AGENT", scopeId: otherAgent.id });

    const service = server.app.services.policies;
    expect(await service.ownerRoles(owner.user.id)).toEqual(["MANAGER", "POLICY_DEPUTY", "USER"]);
    const chain = await service.chainFor({ id: agent.id, ownerId: owner.user.id });
    const ids = chain.map((policy) => policy.id);
    for (const included of [DEFAULT_POLICY_ID, manager.id, deputy.id, userPolicy.id, agentPolicy.id]) expect(ids).toContain(included);
    for (const excluded of [off.id, gone.id, compliance.id, otherAgentPolicy.id]) expect(ids).not.toContain(excluded);
    const managerPolicy = chain.find((policy) => policy.id === manager.id);
    expect(managerPolicy).toEqual({
      id: manager.id,
      version: 1,
      name: "managers",
      scope: "ROLE",
      scopeId: "MANAGER",
      enabled: true,
      mode: "ENFORCE",
      authority: "OVERRIDE",
      rules: [{ id: manager.rules[0]?.id, pattern: "reports.*", effect: "ALLOW", locked: false }],
      caps: [],
    });
    expect(chain.find((policy) => policy.id === agentPolicy.id)?.mode).toBe("SHADOW");

    // The same chain from inside a caller's transaction.
    const inside = await server.app.database.db.transaction((tx) => service.chainFor({ id: agent.id, ownerId: owner.user.id }, tx));
    expect(inside.map((policy) => policy.id).sort()).toEqual([...ids].sort());

    const { effectivePolicy: view } = await server.client.ok(EffectivePolicyDocument, { agentId: agent.id }, as(owner));
    expect(view.ownerRoles).toEqual(["MANAGER", "POLICY_DEPUTY", "USER"]);
    expect(view.rules.find((rule) => rule.pattern === "reports.*")?.decidingRule?.policyId).toBe(manager.id);

    // Money comes back as bigint for the evaluator.
    const capped = await createAs(admin, { name: "money", scope: "AGENT", scopeId: agent.id, caps: [{ per: "AGENT", window: "TOTAL", limit: "9007199254740993" }] });
    const reloaded = await service.chainFor({ id: agent.id, ownerId: owner.user.id });
    expect(reloaded.find((policy) => policy.id === capped.id)?.caps[0]?.limit).toBe(9_007_199_254_740_993n);
    await db.delete(userRoles).where(eq(userRoles.userId, owner.user.id));
  });
});
