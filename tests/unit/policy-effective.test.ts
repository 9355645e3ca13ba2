import { describe, expect, it } from "vitest";
import { effectivePolicy } from "../../src/policy/effective-policy";
import { evaluate } from "../../src/policy/evaluator";
import { patternKind } from "../../src/policy/pattern";
import type { ActionRule, Policy, PolicyScope, SpendCap } from "../../src/policy/policy-types";

function policy(id: string, scope: PolicyScope, scopeId: string | null, rules: ActionRule[], caps: SpendCap[] = []): Policy {
  return { id, version: 2, name: id, scope, scopeId, enabled: true, mode: "ENFORCE", authority: "OVERRIDE", rules, caps };
}
const rule = (id: string, pattern: string, effect: ActionRule["effect"], extra: Partial<ActionRule> = {}): ActionRule => ({
  id,
  pattern,
  effect,
  locked: false,
  ...extra,
});
const cap = (id: string, per: SpendCap["per"], window: SpendCap["window"], limit: bigint, locked = false): SpendCap => ({
  id,
  per,
  window,
  limit,
  locked,
});

const chain: Policy[] = [
  policy(
    "agent",
    "AGENT",
    "a1",
    [rule("llm", "llm.*", "ALLOW"), rule("pay", "payments.transfer", "ALLOW")],
    [cap("day", "AGENT", "DAY", 50n), cap("own", "OWNER", "MONTH", 1000n)],
  ),
  policy(
    "base",
    "GLOBAL",
    null,
    [
      rule("deny-all", "*", "DENY"),
      rule("lock-pay", "payments.*", "REQUIRE_APPROVAL", { locked: true }),
      rule("no-llm", "llm.completion", "DENY"),
    ],
    [cap("day", "AGENT", "DAY", 10n), cap("own", "OWNER", "MONTH", 100n, true), cap("hour", "AGENT", "HOUR", 5n)],
  ),
  policy("mgr", "ROLE", "MANAGER", [rule("email", "email.*", "ALLOW", { maxCostPerAction: 2n })]),
  policy("adm", "ROLE", "ADMIN", [rule("all", "*", "ALLOW")]),
  { ...policy("off", "AGENT", "a1", [rule("x", "*", "DENY")]), enabled: false },
];

const summary = (view: ReturnType<typeof effectivePolicy>) =>
  view.rules.map((entry) => ({
    pattern: entry.pattern,
    effect: entry.effect,
    decider: `${entry.decidingRule?.policyId}:${entry.decidingRule?.ruleId}`,
    locked: entry.lockedOverride,
    max: entry.maxCostPerAction,
    rules: entry.rules.map((r) => `${r.rule.policyId}:${r.rule.ruleId} ${r.status}${r.by ? ` by ${r.by.policyId}:${r.by.ruleId}` : ""}`),
  }));

describe("effectivePolicy", () => {
  const view = effectivePolicy(chain, ["USER", "MANAGER"]);

  it("lists the considered policies, broadest first, without disabled ones or other roles", () => {
    expect(view.policies.map((p) => `${p.scope}:${p.id}@${p.version}`)).toEqual(["GLOBAL:base@2", "ROLE:mgr@2", "AGENT:agent@2"]);
  });

  it("explains, per pattern, which rule applies and which are overridden", () => {
    expect(summary(view)).toEqual([
      { pattern: "llm.completion", effect: "ALLOW", decider: "agent:llm", locked: false, max: null, rules: ["base:no-llm OVERRIDDEN by agent:llm"] },
      {
        pattern: "payments.transfer",
        effect: "REQUIRE_APPROVAL",
        decider: "base:lock-pay",
        locked: true,
        max: null,
        rules: ["agent:pay APPLIES by base:lock-pay"],
      },
      { pattern: "email.*", effect: "ALLOW", decider: "mgr:email", locked: false, max: 2n, rules: ["mgr:email DECIDES"] },
      { pattern: "llm.*", effect: "ALLOW", decider: "agent:llm", locked: false, max: null, rules: ["agent:llm DECIDES"] },
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL", decider: "base:lock-pay", locked: false, max: null, rules: ["base:lock-pay DECIDES"] },
      { pattern: "*", effect: "DENY", decider: "base:deny-all", locked: false, max: null, rules: ["base:deny-all DECIDES"] },
    ]);
  });

  it("without ownerRoles, every ROLE policy counts", () => {
    const star = summary(effectivePolicy(chain)).find((entry) => entry.pattern === "*");
    expect(star).toMatchObject({ effect: "ALLOW", decider: "adm:all", rules: ["base:deny-all OVERRIDDEN by adm:all", "adm:all DECIDES"] });
  });

  it("explains caps per (per, window): applied, replaced and by what", () => {
    expect(
      view.caps.map((group) => ({
        pair: `${group.per}/${group.window}`,
        scope: group.decidingScope,
        applied: group.applied.map((c) => `${c.policyId}:${c.capId}${c.locked ? " locked" : ""}`),
        overridden: group.overridden.map((o) => `${o.cap.policyId}:${o.cap.capId} by ${o.by.map((c) => `${c.policyId}:${c.capId}`).join(",")}`),
      })),
    ).toEqual([
      { pair: "AGENT/HOUR", scope: "GLOBAL", applied: ["base:hour"], overridden: [] },
      { pair: "AGENT/DAY", scope: "AGENT", applied: ["agent:day"], overridden: ["base:day by agent:day"] },
      { pair: "OWNER/MONTH", scope: "AGENT", applied: ["base:own locked", "agent:own"], overridden: [] },
    ]);
  });

  it("agrees with evaluate for every exact pattern", () => {
    for (const entry of view.rules.filter((e) => patternKind(e.pattern) === "EXACT")) {
      const request = { agentId: "a1", ownerId: "u1", ownerRoles: ["USER", "MANAGER"], action: entry.pattern, estimatedCost: 0n };
      const decision = evaluate(chain, request, new Map(), new Date("2024-03-13T10:30:00.000Z"));
      expect(decision.decidingRule).toEqual(entry.decidingRule);
    }
  });

  it("the would-be view includes enabled SHADOW policies", () => {
    const withShadow = [...chain, { ...policy("try", "AGENT", "a1", [rule("no", "email.*", "DENY")]), mode: "SHADOW" as const }];
    expect(effectivePolicy(withShadow, ["MANAGER"]).rules.find((e) => e.pattern === "email.*")?.effect).toBe("ALLOW");
    const wouldBe = effectivePolicy(withShadow, ["MANAGER"], { includeShadow: true });
    expect(wouldBe.rules.find((e) => e.pattern === "email.*")?.effect).toBe("DENY");
  });
});
