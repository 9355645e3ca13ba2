import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate, prepareChain } from "../../src/policy/evaluator";
import { matchesPattern } from "../../src/policy/pattern";
import type { ActionRequest, Policy, RuleEffect } from "../../src/policy/policy-types";
import { RuleIndex } from "../../src/policy/rule-index";

/**
 * The rule index answers exactly what testing every rule with `matchesPattern` answers, for
 * valid and invalid patterns and action names alike, on its first question (a scan) and on
 * every later one (the index); and a prepared chain, asked many times, decides as the raw
 * policy list does.
 */
const SEGMENTS = ["a", "b", "c", "ab", "x-1"];
const segment = fc.constantFrom(...SEGMENTS);
const name = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("."));
/** Patterns as stored: valid ones, and odd strings a pattern is compared to literally. */
const patternArb = fc.oneof(
  { weight: 4, arbitrary: name },
  { weight: 4, arbitrary: name.map((prefix) => `${prefix}.*`) },
  { weight: 1, arbitrary: fc.constant("*") },
  { weight: 1, arbitrary: fc.constantFrom("a..*", "a.*.b", "a*", ".*", "", "a.", "**", "a.**") },
);
/** Actions: valid names, and the odd strings a caller (or an explanation's representative) may ask. */
const actionArb = fc.oneof(
  { weight: 6, arbitrary: name },
  { weight: 1, arbitrary: name.map((prefix) => `${prefix}.~`) },
  { weight: 1, arbitrary: fc.constantFrom("*", "~", "a.*", "a..b", "a.", ".a", "", "a..*", "a.*.b", "a*") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const EFFECTS: RuleEffect[] = ["ALLOW", "REQUIRE_APPROVAL", "DENY"];
const policiesArb = fc
  .array(fc.array(fc.tuple(patternArb, fc.constantFrom(...EFFECTS), fc.boolean()), { maxLength: 8 }), { minLength: 1, maxLength: 5 })
  .map((policies) =>
    policies.map(
      (rules, p): Policy => ({
        id: `p${p}`,
        version: 1,
        name: `policy ${p}`,
        scope: (["GLOBAL", "ROLE", "USER", "AGENT"] as const)[p % 4] as Policy["scope"],
        scopeId: [null, "r1", "u1", "a1"][p % 4] as string | null,
        enabled: true,
        mode: "ENFORCE",
        authority: p === 4 ? "RESTRICTION" : "OVERRIDE",
        rules: rules.map(([pattern, effect, locked], r) => ({ id: `r${r}`, pattern, effect, locked })),
        caps: [],
      }),
    ),
  );

const keys = (refs: readonly { policyId: string; ruleId: string }[]) => refs.map((ref) => `${ref.policyId}/${ref.ruleId}`).sort();
const linear = (policies: readonly Policy[], action: string) =>
  policies.flatMap((policy) => policy.rules.filter((rule) => matchesPattern(rule.pattern, action)).map((rule) => `${policy.id}/${rule.id}`)).sort();

describe("RuleIndex", () => {
  it("finds exactly the rules matchesPattern finds, scanning first and indexed after", () => {
    fc.assert(
      fc.property(policiesArb, fc.array(actionArb, { minLength: 2, maxLength: 12 }), (policies, actions) => {
        const index = new RuleIndex(policies);
        for (const action of actions) expect(keys(index.matching(action)), action).toEqual(linear(policies, action));
      }),
      { numRuns: 1_000 },
    );
  });

  it("looks up by pattern: a rule of another name is never a candidate", () => {
    const policy: Policy = {
      id: "p",
      version: 1,
      name: "p",
      scope: "GLOBAL",
      scopeId: null,
      enabled: true,
      mode: "ENFORCE",
      authority: "OVERRIDE",
      rules: Array.from({ length: 1_000 }, (_, i) => ({ id: `r${i}`, pattern: `svc${i}.op`, effect: "ALLOW" as const, locked: false })),
      caps: [],
    };
    const index = new RuleIndex([policy]);
    index.matching("svc1.op");
    const found = index.matching("svc7.op");
    expect(keys(found)).toEqual(["p/r7"]);
    // Indexed refs are shared between decisions: nobody may change one.
    expect(Object.isFrozen(found[0])).toBe(true);
  });
});

describe("a prepared chain", () => {
  it("decides every request as the raw policy list does, however many times it is asked", () => {
    const request = (action: string, cost: bigint): ActionRequest => ({ agentId: "a1", ownerId: "u1", ownerRoles: ["r1"], action, estimatedCost: cost, runId: null });
    fc.assert(
      fc.property(policiesArb, fc.array(fc.tuple(actionArb, fc.bigInt({ min: 0n, max: 10n })), { minLength: 2, maxLength: 8 }), (policies, asked) => {
        const now = new Date("2026-01-01T00:00:00Z");
        const prepared = prepareChain(policies, request("a", 0n));
        for (const [action, cost] of asked) {
          expect(evaluate(prepared, request(action, cost), new Map(), now)).toEqual(evaluate(policies, request(action, cost), new Map(), now));
        }
      }),
      { numRuns: 500 },
    );
  });
});
