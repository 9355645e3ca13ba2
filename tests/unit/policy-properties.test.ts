import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outcomeRank, type Decision } from "../../src/policy/decision-types";
import { effectivePolicy } from "../../src/policy/effective-policy";
import { evaluate } from "../../src/policy/evaluator";
import { matchesPattern, patternKind, specificity } from "../../src/policy/pattern";
import { appliesTo } from "../../src/policy/policy-chain";
import {
  CAP_COUNTERS,
  CAP_WINDOWS,
  capKey,
  effectRank,
  scopeRank,
  serializeCapKey,
  type ActionRequest,
  type ActionRule,
  type Policy,
  type RuleEffect,
  type SpendCap,
  type SpendView,
} from "../../src/policy/policy-types";

const RUNS = { numRuns: 500 };
/** A small alphabet, so rules often collide on one action (ties, overrides, locks). */
const PATTERNS = ["a.b", "a.*", "*", "b.c", "a.b.*"];
const ACTIONS = ["a.b", "a.c", "b.c", "a.b.c", "a"];
const EFFECTS: RuleEffect[] = ["ALLOW", "REQUIRE_APPROVAL", "DENY"];
/** Some scope ids do not apply to the request (role r3, user u2, agent a2). */
const SCOPE = fc.oneof(
  fc.constant({ scope: "GLOBAL" as const, scopeId: null }),
  fc.record({ scope: fc.constant("ROLE" as const), scopeId: fc.constantFrom("r1", "r2", "r3") }),
  fc.record({ scope: fc.constant("USER" as const), scopeId: fc.constantFrom("u1", "u1", "u2") }),
  fc.record({ scope: fc.constant("AGENT" as const), scopeId: fc.constantFrom("a1", "a1", "a2") }),
);
const money = (max: number) => fc.bigInt({ min: 0n, max: BigInt(max) });

const ruleArb = fc.record({
  pattern: fc.constantFrom(...PATTERNS),
  effect: fc.constantFrom(...EFFECTS),
  max: fc.option(money(20), { nil: undefined, freq: 2 }),
  locked: fc.constantFrom(false, false, false, true),
});
const capArb = fc.record({
  per: fc.constantFrom(...CAP_COUNTERS),
  window: fc.constantFrom(...CAP_WINDOWS),
  limit: money(30),
  locked: fc.boolean(),
});
const policyArb = fc.record({
  where: SCOPE,
  version: fc.integer({ min: 1, max: 3 }),
  enabled: fc.constantFrom(true, true, true, false),
  mode: fc.constantFrom("ENFORCE" as const, "ENFORCE" as const, "ENFORCE" as const, "SHADOW" as const),
  authority: fc.constantFrom("OVERRIDE" as const, "OVERRIDE" as const, "RESTRICTION" as const),
  rules: fc.array(ruleArb, { maxLength: 4 }),
  caps: fc.array(capArb, { maxLength: 3 }),
});
function toPolicy(d: PolicyDraft, i: number): Policy {
  return {
    id: `p${i}`,
    version: d.version,
    name: `policy ${i}`,
    scope: d.where.scope,
    scopeId: d.where.scopeId,
    enabled: d.enabled,
    mode: d.mode,
    authority: d.authority,
    rules: d.rules.map((r, j): ActionRule => {
      const rule: ActionRule = { id: `r${j}`, pattern: r.pattern, effect: r.effect, locked: r.locked };
      if (r.max !== undefined) rule.maxCostPerAction = r.max;
      return rule;
    }),
    caps: d.caps.map((c, j): SpendCap => ({ id: `c${j}`, ...c })),
  };
}
type PolicyDraft = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;
const chainArb = fc.array(policyArb, { maxLength: 6 }).map((drafts) => drafts.map(toPolicy));
const GLOBAL_LOCK: Policy = { id: "zz-lock", version: 1, name: "lock", scope: "GLOBAL", scopeId: null, enabled: true, mode: "ENFORCE", authority: "OVERRIDE", rules: [], caps: [] };
const NOW = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-12-31T23:59:59Z"), noInvalidDate: true });
const requestArb = fc.record({
  action: fc.constantFrom(...ACTIONS),
  estimatedCost: fc.oneof({ weight: 9, arbitrary: money(25) }, { weight: 1, arbitrary: fc.bigInt({ min: -3n, max: -1n }) }),
}).map((r): ActionRequest => ({ agentId: "a1", ownerId: "u1", ownerRoles: ["r1", "r2"], ...r }));
/** Spend per (per, window) counter of the request at the instant. */
const spendArb = fc.array(fc.tuple(fc.constantFrom(...CAP_COUNTERS), fc.constantFrom(...CAP_WINDOWS), money(35)), { maxLength: 8 });
const toView = (entries: [SpendCap["per"], SpendCap["window"], bigint][], request: ActionRequest, now: Date): SpendView =>
  new Map(entries.map(([per, window, amount]) => [serializeCapKey(capKey({ per, window }, request, now)), amount]));

const scenario = fc.record({ chain: chainArb, request: requestArb, spend: spendArb, now: NOW });
const run = (s: { chain: Policy[]; request: ActionRequest; spend: [SpendCap["per"], SpendCap["window"], bigint][]; now: Date }) =>
  evaluate(s.chain, s.request, toView(s.spend, s.request, s.now), s.now);
const rank = (d: Decision) => outcomeRank(d.outcome);
const core = ({ wouldBe: _ignored, ...rest }: Decision) => rest;

describe("evaluate: properties", () => {
  it("(a) a locked GLOBAL DENY never loosens a decision, and denies whenever it matches, unless a more specific GLOBAL rule carves the action out", () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom(...PATTERNS), (s, pattern) => {
        const lock: Policy = { ...GLOBAL_LOCK, rules: [{ id: "l", pattern, effect: "DENY", locked: true }] };
        const before = run(s);
        const after = run({ ...s, chain: [...s.chain, lock] });
        expect(rank(after)).toBeGreaterThanOrEqual(rank(before));
        const carvedOut = s.chain.some(
          (p) =>
            p.enabled &&
            p.mode === "ENFORCE" &&
            p.scope === "GLOBAL" &&
            p.authority === "OVERRIDE" &&
            p.rules.some((r) => matchesPattern(r.pattern, s.request.action) && specificity(r.pattern) > specificity(pattern)),
        );
        if (matchesPattern(pattern, s.request.action) && !carvedOut) expect(after.outcome).toBe("DENIED");
      }),
      RUNS,
    );
  });

  it("(h) adding a restriction layer never loosens a decision and never drops a cap the chain without it applies", () => {
    fc.assert(
      fc.property(scenario, policyArb, (s, draft) => {
        const layer: Policy = { ...toPolicy(draft, 99), scope: "AGENT", scopeId: "a1", enabled: true, mode: "ENFORCE", authority: "RESTRICTION" };
        const before = run(s);
        const after = run({ ...s, chain: [...s.chain, layer] });
        expect(rank(after)).toBeGreaterThanOrEqual(rank(before));
        if (before.outcome === "DENIED") expect(after.outcome).toBe("DENIED");
        const capIds = (d: Decision) => d.caps.map((cap) => `${cap.policyId}:${cap.capId}`);
        for (const id of capIds(before)) expect(capIds(after)).toContain(id);
      }),
      RUNS,
    );
  });

  it("(i) lowering any cap never lets more through, and a lowered cap of the chain binds unless a narrower cap of the chain replaces it", () => {
    const counts = (p: Policy, req: ActionRequest) => p.enabled && p.mode === "ENFORCE" && appliesTo(p, req);
    fc.assert(
      fc.property(scenario, fc.nat(), fc.nat(), fc.bigInt({ min: 1n, max: 30n }), (s, pickPolicy, pickCap, by) => {
        const withCaps = s.chain.filter((p) => p.caps.length > 0);
        fc.pre(withCaps.length > 0);
        const target = withCaps[pickPolicy % withCaps.length] as Policy;
        const j = pickCap % target.caps.length;
        const lowered: Policy = { ...target, caps: target.caps.map((c, k) => (k === j ? { ...c, limit: c.limit > by ? c.limit - by : 0n } : c)) };
        const before = run(s);
        const after = run({ ...s, chain: s.chain.map((p) => (p === target ? lowered : p)) });
        expect(rank(after)).toBeGreaterThanOrEqual(rank(before));
        if (before.outcome === "DENIED") expect(after.outcome).toBe("DENIED");

        const theCap = target.caps[j] as SpendCap;
        if (!counts(target, s.request) || target.authority !== "OVERRIDE" || after.outcome !== "ALLOWED") return;
        const replaced =
          !theCap.locked &&
          s.chain.some(
            (p) =>
              p !== target &&
              counts(p, s.request) &&
              p.authority === "OVERRIDE" &&
              scopeRank(p.scope) > scopeRank(target.scope) &&
              p.caps.some((c) => c.per === theCap.per && c.window === theCap.window),
          );
        if (!replaced) expect(after.caps.map((c) => `${c.policyId}:${c.capId}`)).toContain(`${target.id}:${theCap.id}`);
      }),
      RUNS,
    );
  });

  it("(b) an ALLOWED decision fits every cap it lists and reserves exactly the cost", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const decision = run(s);
        if (decision.outcome !== "ALLOWED") return;
        for (const cap of decision.caps) {
          expect(cap.spentBefore + s.request.estimatedCost).toBeLessThanOrEqual(cap.limit);
          expect(cap.spentAfter).toBe(cap.spentBefore + s.request.estimatedCost);
        }
      }),
      RUNS,
    );
  });

  it("(c) is deterministic, also on cloned inputs", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        expect(run(structuredClone(s))).toEqual(run(s));
      }),
      RUNS,
    );
  });

  it("(d) a disabled or inapplicable policy weighs as much as an absent one", () => {
    fc.assert(
      fc.property(scenario, fc.nat(), fc.boolean(), (s, pick, disable) => {
        fc.pre(s.chain.length > 0);
        const i = pick % s.chain.length;
        const target = s.chain[i] as Policy;
        const neutral: Policy = disable ? { ...target, enabled: false } : { ...target, scope: "AGENT", scopeId: "someone-else" };
        const changed = s.chain.map((p, j) => (j === i ? neutral : p));
        const removed = s.chain.filter((_, j) => j !== i);
        expect(run({ ...s, chain: changed })).toEqual(run({ ...s, chain: removed }));
      }),
      RUNS,
    );
  });

  it("(e) the order of the chain, of rules and of caps does not matter", () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.double({ noNaN: true })), (s, keys) => {
        const shuffled = s.chain
          .map((p) => ({ p: { ...p, rules: [...p.rules].reverse(), caps: [...p.caps].reverse() }, k: keys.next().value as number }))
          .sort((x, y) => x.k - y.k)
          .map((x) => x.p);
        expect(run({ ...s, chain: shuffled })).toEqual(run(s));
      }),
      RUNS,
    );
  });

  it("(f) more spend never makes the outcome more permissive", () => {
    fc.assert(
      fc.property(scenario, spendArb, (s, extra) => {
        const before = run(s);
        const raised = run({ ...s, spend: raise(s.spend, extra) });
        expect(rank(raised)).toBeGreaterThanOrEqual(rank(before));
        if (before.outcome === "DENIED") expect(raised.outcome).toBe("DENIED");
      }),
      RUNS,
    );
  });

  it("(g) a stricter rule effect never makes the outcome more permissive", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = rank(run(s));
        s.chain.forEach((target, i) =>
          target.rules.forEach((old, j) => {
            for (const effect of EFFECTS.filter((e) => effectRank(e) > effectRank(old.effect))) {
              const stricter = { ...target, rules: target.rules.map((r, k) => (k === j ? { ...r, effect } : r)) };
              const after = run({ ...s, chain: s.chain.map((p, k) => (k === i ? stricter : p)) });
              expect(rank(after)).toBeGreaterThanOrEqual(before);
            }
          }),
        );
      }),
      RUNS,
    );
  });

  it("SHADOW policies never change the real decision; the would-be one enforces them", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const decision = run(s);
        const enforcedOnly = run({ ...s, chain: s.chain.filter((p) => p.mode === "ENFORCE") });
        expect(core(decision)).toEqual(core(enforcedOnly));
        const allEnforced = run({ ...s, chain: s.chain.map((p) => ({ ...p, mode: "ENFORCE" as const })) });
        if (decision.wouldBe !== null) expect(decision.wouldBe.outcome).toBe(allEnforced.outcome);
        else expect(decision).toEqual(allEnforced);
      }),
      RUNS,
    );
  });

  it("effectivePolicy agrees with evaluate on every exact pattern", () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const request = (action: string): ActionRequest => ({ agentId: "a1", ownerId: "u1", ownerRoles: ["r1", "r2"], action, estimatedCost: 0n });
        const applicable = chain.filter((p) => appliesTo(p, request("x")));
        for (const entry of effectivePolicy(applicable, ["r1", "r2"]).rules) {
          if (patternKind(entry.pattern) !== "EXACT") continue;
          const decision = evaluate(chain, request(entry.pattern), new Map(), new Date(0));
          expect(decision.decidingRule).toEqual(entry.decidingRule);
        }
      }),
      RUNS,
    );
  });
});

/** Adds each extra amount to the spend of its counter (a missing counter starts at 0). */
function raise(
  base: [SpendCap["per"], SpendCap["window"], bigint][],
  extra: [SpendCap["per"], SpendCap["window"], bigint][],
): [SpendCap["per"], SpendCap["window"], bigint][] {
  const totals = new Map<string, [SpendCap["per"], SpendCap["window"], bigint]>();
  for (const [per, window, amount] of base) totals.set(`${per}/${window}`, [per, window, amount]);
  for (const [per, window, amount] of extra) {
    const current = totals.get(`${per}/${window}`)?.[2] ?? 0n;
    totals.set(`${per}/${window}`, [per, window, current + amount]);
  }
  return [...totals.values()];
}
