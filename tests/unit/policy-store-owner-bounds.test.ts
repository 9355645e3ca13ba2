import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ForbiddenError } from "../../src/errors/errors";
import { assertNoLocks } from "../../src/policies/owner-bounds";
import type { CapContent, RuleContent } from "../../src/policies/policy-validation";
import { outcomeRank } from "../../src/policy/decision-types";
import { evaluate } from "../../src/policy/evaluator";
import {
  CAP_WINDOWS,
  capKey,
  serializeCapKey,
  type ActionRequest,
  type ActionRule,
  type CapCounter,
  type Policy,
  type PolicyScope,
  type RuleEffect,
  type SpendCap,
} from "../../src/policy/policy-types";

function policy(id: string, scope: PolicyScope, rules: ActionRule[], caps: SpendCap[] = [], extra: Partial<Policy> = {}): Policy {
  const scopeId = { GLOBAL: null, ROLE: "r1", USER: "u1", AGENT: "a1" }[scope];
  return { id, version: 1, name: id, scope, scopeId, enabled: true, mode: "ENFORCE", authority: "OVERRIDE", rules, caps, ...extra };
}
const rule = (pattern: string, effect: RuleEffect, extra: Partial<ActionRule> = {}): ActionRule => ({
  id: `${pattern}-${effect}`,
  pattern,
  effect,
  locked: false,
  ...extra,
});
const cap = (per: CapCounter, window: SpendCap["window"], limit: bigint, locked = false): SpendCap => ({
  id: `${per}-${window}`,
  per,
  window,
  limit,
  locked,
});
const own = (pattern: string, effect: RuleEffect, maxCostPerAction?: bigint): RuleContent =>
  maxCostPerAction === undefined ? { pattern, effect, locked: false } : { pattern, effect, locked: false, maxCostPerAction };

/** The field an owner's rules and caps are refused on, or null when accepted. */
function refusal(rules: RuleContent[], caps: CapContent[] = []): string | null {
  try {
    assertNoLocks(rules, caps);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return (error as ForbiddenError).extensions.field as string;
  }
}

describe("assertNoLocks", () => {
  it("accepts any rule and cap an owner writes, loosening-looking ones too: they are restriction layers", () => {
    expect(refusal([own("*", "ALLOW"), own("payments.*", "ALLOW"), own("llm.*", "REQUIRE_APPROVAL", 10n)], [{ per: "AGENT", window: "DAY", limit: 10n ** 15n, locked: false }])).toBeNull();
  });

  it("refuses locked rules and caps, naming the field", () => {
    expect(refusal([own("*", "DENY"), { pattern: "x.y", effect: "DENY", locked: true }])).toBe("rules[1].locked");
    expect(refusal([], [{ per: "AGENT", window: "DAY", limit: 1n, locked: true }])).toBe("caps[0].locked");
  });
});

/**
 * Property: whatever an owner adds never makes any decision more permissive, with no write-time
 * check at all: the evaluator treats it as a restriction layer.
 */
describe("an owner policy only restricts", () => {
  const PATTERNS = ["a.b", "a.*", "*", "b.c", "a.b.*"];
  const ACTIONS = ["a.b", "a.c", "b.c", "a.b.c", "a"];
  const EFFECTS: RuleEffect[] = ["ALLOW", "REQUIRE_APPROVAL", "DENY"];
  const PER: CapCounter[] = ["AGENT", "OWNER"];
  const money = (max: number) => fc.bigInt({ min: 0n, max: BigInt(max) });
  /** Mostly ALLOW, so that owners' ALLOW rules are often accepted and the interesting cases arise. */
  const ruleArb = fc.record({
    pattern: fc.constantFrom(...PATTERNS),
    effect: fc.constantFrom<RuleEffect>("ALLOW", "ALLOW", "ALLOW", ...EFFECTS),
    max: fc.option(money(20), { nil: undefined, freq: 2 }),
  });
  const capArb = fc.record({ per: fc.constantFrom(...PER), window: fc.constantFrom(...CAP_WINDOWS), limit: money(30) });
  const referenceArb = fc.array(
    fc.record({
      scope: fc.constantFrom<PolicyScope>("GLOBAL", "ROLE", "USER", "USER", "AGENT"),
      enabled: fc.constantFrom(true, true, false),
      mode: fc.constantFrom("ENFORCE" as const, "ENFORCE" as const, "SHADOW" as const),
      rules: fc.array(fc.record({ rule: ruleArb, locked: fc.constantFrom(false, false, true) }), { maxLength: 4 }),
      caps: fc.array(fc.record({ cap: capArb, locked: fc.boolean() }), { maxLength: 2 }),
    }),
    { maxLength: 5 },
  );
  const ownerArb = fc.record({ rules: fc.array(ruleArb, { maxLength: 3 }), caps: fc.array(capArb, { maxLength: 2 }) });
  const toRule = (r: { pattern: string; effect: RuleEffect; max?: bigint }, id: string, locked = false): ActionRule => {
    const built: ActionRule = { id, pattern: r.pattern, effect: r.effect, locked };
    if (r.max !== undefined) built.maxCostPerAction = r.max;
    return built;
  };

  it("holds for random chains, owner policies, actions, costs and spend", () => {
    const now = new Date("2026-03-04T05:06:07Z");
    fc.assert(
      fc.property(
        referenceArb,
        ownerArb,
        fc.constantFrom(...ACTIONS),
        money(30),
        fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: money(30) }), { minLength: 10, maxLength: 10 }),
        (drafts, owner, action, cost, spent) => {
          const reference = drafts.map((d, i) =>
            policy(
              `p${i}`,
              d.scope,
              d.rules.map((r, j) => toRule(r.rule, `r${j}`, r.locked)),
              d.caps.map((c, j) => ({ id: `c${j}`, ...c.cap, locked: c.locked })),
              { enabled: d.enabled, mode: d.mode },
            ),
          );
          const rules = owner.rules.map((r) => {
            const { id: _id, ...content } = toRule(r, "x");
            return content;
          });
          const caps = owner.caps.map((c) => ({ ...c, locked: false }));
          expect(refusal(rules, caps)).toBeNull();
          const added = policy(
            "zz-owner",
            "AGENT",
            rules.map((r, j) => ({ id: `o${j}`, ...r })),
            caps.map((c, j) => ({ id: `oc${j}`, ...c })),
            { authority: "RESTRICTION" },
          );
          const request: ActionRequest = { agentId: "a1", ownerId: "u1", ownerRoles: ["USER", "r1"], action, estimatedCost: cost };
          const keys = PER.flatMap((per) => CAP_WINDOWS.map((window) => serializeCapKey(capKey({ per, window }, request, now))));
          const spend = new Map(keys.map((key, i) => [key, spent[i] ?? 0n]));
          const before = evaluate(reference, request, spend, now);
          const after = evaluate([...reference, added], request, spend, now);
          expect(outcomeRank(after.outcome)).toBeGreaterThanOrEqual(outcomeRank(before.outcome));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
