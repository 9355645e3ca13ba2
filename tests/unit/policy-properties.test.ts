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
  signatureOf,
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
/** Caps of every kind: spend or velocity (ACTIONS), all actions or a pattern's, hard or soft. */
const capArb = fc
  .record({
    per: fc.constantFrom(...CAP_COUNTERS),
    window: fc.constantFrom(...CAP_WINDOWS),
    limit: money(30),
    locked: fc.boolean(),
    measure: fc.constantFrom(undefined, undefined, undefined, "ACTIONS" as const),
    pattern: fc.constantFrom(undefined, undefined, undefined, ...PATTERNS.filter((pattern) => pattern !== "*")),
    soft: fc.constantFrom(undefined, undefined, undefined, true as const),
  })
  .map(({ measure, pattern, soft, ...cap }): Omit<SpendCap, "id"> => ({
    ...cap,
    ...(measure === undefined ? {} : { measure }),
    ...(pattern === undefined ? {} : { pattern }),
    ...(soft === undefined ? {} : { soft }),
  }));
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
  runId: fc.constantFrom(null, "run1"),
}).map((r): ActionRequest => ({ agentId: "a1", ownerId: "u1", ownerRoles: ["r1", "r2"], ...r }));
/** Spend per counter (any signature) of the request at the instant. */
const spendArb = fc.array(
  fc.tuple(fc.constantFrom(...CAP_COUNTERS), fc.constantFrom(...CAP_WINDOWS), money(35), capArb.map((cap) => ({ measure: cap.measure, pattern: cap.pattern }))),
  { maxLength: 8 },
);
type SpendEntry = [SpendCap["per"], SpendCap["window"], bigint, Pick<SpendCap, "measure" | "pattern">];
const toView = (entries: SpendEntry[], request: ActionRequest, now: Date): SpendView =>
  new Map(
    entries
      .filter(([per]) => per !== "RUN" || request.runId)
      .map(([per, window, amount, kind]) => [serializeCapKey(capKey({ per, window, ...kind }, request, now)), amount]),
  );
/** Whether a cap counts this request: its pattern matches, and per RUN only for an action of a run. */
const countsRequest = (cap: SpendCap, request: ActionRequest) =>
  (cap.pattern === undefined || matchesPattern(cap.pattern, request.action)) && (cap.per !== "RUN" || Boolean(request.runId));

const scenario = fc.record({ chain: chainArb, request: requestArb, spend: spendArb, now: NOW });
const run = (s: { chain: Policy[]; request: ActionRequest; spend: SpendEntry[]; now: Date }) =>
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
        if (!counts(target, s.request) || !countsRequest(theCap, s.request) || target.authority !== "OVERRIDE" || after.outcome !== "ALLOWED") return;
        const replaced =
          !theCap.locked &&
          s.chain.some(
            (p) =>
              p !== target &&
              counts(p, s.request) &&
              p.authority === "OVERRIDE" &&
              scopeRank(p.scope) > scopeRank(target.scope) &&
              p.caps.some((c) => signatureOf(c) === signatureOf(theCap)),
          );
        if (!replaced) expect(after.caps.map((c) => `${c.policyId}:${c.capId}`)).toContain(`${target.id}:${theCap.id}`);
      }),
      RUNS,
    );
  });

  it("(j) softening a cap never allows what the hard cap did not: at most it holds for approval what it denied", () => {
    fc.assert(
      fc.property(scenario, fc.nat(), fc.nat(), (s, pickPolicy, pickCap) => {
        const withCaps = s.chain.filter((p) => p.caps.length > 0);
        fc.pre(withCaps.length > 0);
        const target = withCaps[pickPolicy % withCaps.length] as Policy;
        const j = pickCap % target.caps.length;
        const hard: Policy = { ...target, caps: target.caps.map((c, k) => (k === j ? { ...c, soft: undefined } : c)) };
        const soft: Policy = { ...target, caps: target.caps.map((c, k) => (k === j ? { ...c, soft: true as const } : c)) };
        const asHard = run({ ...s, chain: s.chain.map((p) => (p === target ? hard : p)) });
        const asSoft = run({ ...s, chain: s.chain.map((p) => (p === target ? soft : p)) });
        if (asSoft.outcome === "ALLOWED") expect(asHard.outcome).toBe("ALLOWED");
        expect(rank(asSoft)).toBeLessThanOrEqual(rank(asHard));
      }),
      RUNS,
    );
  });

  it("(b) an ALLOWED decision fits every cap it lists and reserves exactly the cost (one action on a velocity cap)", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const decision = run(s);
        if (decision.outcome !== "ALLOWED") return;
        for (const cap of decision.caps) {
          const charged = cap.measure === "ACTIONS" ? 1n : s.request.estimatedCost;
          expect(cap.spentBefore + charged).toBeLessThanOrEqual(cap.limit);
          expect(cap.spentAfter).toBe(cap.spentBefore + charged);
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
function raise(base: SpendEntry[], extra: SpendEntry[]): SpendEntry[] {
  const totals = new Map<string, SpendEntry>();
  const id = ([per, window, , kind]: SpendEntry) => signatureOf({ per, window, ...kind });
  for (const entry of base) totals.set(id(entry), entry);
  for (const entry of extra) {
    const current = totals.get(id(entry))?.[2] ?? 0n;
    totals.set(id(entry), [entry[0], entry[1], current + entry[2], entry[3]]);
  }
  return [...totals.values()];
}
