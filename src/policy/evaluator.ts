/**
 * The governance evaluator: a pure function from (policy chain, request, spend view, now) to
 * a decision with reasons. No I/O, no clock, no randomness: the same input always gives a
 * deep-equal decision, which is what makes a recorded decision replayable.
 *
 * Order of checks (the policy model in README):
 * 1. estimatedCost must be a bigint >= 0 (INVALID_COST), the action a valid name
 *    (INVALID_ACTION). Cost 0 is allowed.
 * 2. Action rules: rule-resolution.ts over the OVERRIDE policies, then the restriction
 *    layers (layered-resolution.ts): the strictest effect of the chain and every layer
 *    decides. No matching rule in the chain: DENIED (NO_MATCHING_RULE); DENY: DENIED
 *    (RULE_DENY).
 * 3. For ALLOW and REQUIRE_APPROVAL, every limit is checked and every failure reported
 *    together: the max cost per action of the tie group, of each locked floor and of each
 *    layer's deciding rules (COST_OVER_RULE_MAX), and every applicable cap (cap-resolution.ts,
 *    the chain's and every layer's) must have room,
 *    spentBefore + cost <= limit (CAP_EXCEEDED). Any failure: DENIED.
 * 4. A soft cap without room holds the action (PENDING_APPROVAL, SOFT_CAP_EXCEEDED) where a
 *    hard one would deny it; hard caps and rule limits still deny first.
 * 5. Otherwise ALLOWED (the cost is to be reserved on every cap's counter, 1 on a cap on
 *    ACTIONS) or PENDING_APPROVAL. A held action reserves nothing (its caps report spentAfter =
 *    spentBefore): the caller re-evaluates when it is approved, against the spend of then.
 *
 * SHADOW policies are evaluated in a second pass: the real decision considers the ENFORCE
 * policies only; `wouldBe` is the same evaluation over ENFORCE + SHADOW policies (shadow
 * caps read the same counters), reported when the chain has an enabled shadow policy. The
 * real decision is exactly what it would be without the shadow policies.
 *
 * Invariants (tested as properties): the outcome never depends on the order of the chain;
 * disabled or inapplicable policies weigh exactly as much as absent ones; more spend,
 * stricter effects, an extra locked DENY, a lower cap or an extra restriction layer never
 * make an outcome more permissive; an ALLOWED decision fits every cap it lists.
 */
import { resolveLayeredCaps } from "./cap-resolution";
import type { CapCheck, Decision, DecisionCore, Reason } from "./decision-types";
import { resolveLayeredRules } from "./layered-resolution";
import { matchesPattern, validateActionName } from "./pattern";
import { preparedFor, type ChainInput, type ChainParts } from "./policy-chain";
import {
  capKey,
  capSubject,
  serializeCapKey,
  spentOf,
  windowBounds,
  type ActionRequest,
  type Money,
  type Policy,
  type SpendView,
} from "./policy-types";
import {
  capExceededReason,
  costOverMaxReason,
  invalidActionReason,
  invalidCostReason,
  noMatchingRuleReason,
  restrictionReason,
  ruleReason,
} from "./reasons";

export { effectivePolicy } from "./effective-policy";
export { prepareChain, type ChainInput, type PreparedChain } from "./policy-chain";

/**
 * Decides `request` against `chain` (the agent's policies, input order irrelevant, or a
 * chain prepared for this agent, `prepareChain`) and `spend` at instant `now`. Disabled and
 * inapplicable policies are ignored; SHADOW policies only shape `wouldBe`. Throws a
 * RangeError only for an invalid `now` (a caller's bug).
 */
export function evaluate(chain: ChainInput, request: ActionRequest, spend: SpendView, now: Date): Decision {
  if (!Number.isFinite(now.getTime())) throw new RangeError("evaluate: `now` is not a valid date");
  const prepared = preparedFor(chain, request);
  return {
    ...decide(prepared.enforced, request, spend, now),
    wouldBe: prepared.withShadow === null ? null : decide(prepared.withShadow, request, spend, now),
  };
}

/**
 * Re-decides a recorded action: the recorded chain (with its policy versions), request,
 * spend view and instant. Exactly `evaluate`, which is deterministic, so a correct record
 * replays to a deep-equal decision.
 */
export function replay(recordedChain: readonly Policy[], request: ActionRequest, recordedSpend: SpendView, now: Date): Decision {
  return evaluate(recordedChain, request, recordedSpend, now);
}

/**
 * The distinct counters the decision's caps read: several caps with the same (per, window)
 * share one counter. (The ledger charges an allowed action on all fifteen counters of its
 * request, policy/counters.ts, a superset of these.)
 */
export function counterKeys(decision: DecisionCore): string[] {
  return [...new Set(decision.caps.map((cap) => cap.key))];
}

/** One pass of the evaluation over `parts`, already selected, sorted and split. */
function decide(parts: ChainParts, request: ActionRequest, spend: SpendView, now: Date): DecisionCore {
  const refs = parts.refs;
  const cost: unknown = request.estimatedCost;
  if (typeof cost !== "bigint" || cost < 0n) {
    return { outcome: "DENIED", reasons: [invalidCostReason(cost)], decidingRule: null, caps: [], policies: refs };
  }
  const caps = checkCaps(parts, request, spend, now, cost);
  const denied = (reasons: Reason[], decidingRule: DecisionCore["decidingRule"]): DecisionCore => ({
    outcome: "DENIED",
    reasons,
    decidingRule,
    caps,
    policies: refs,
  });

  const actionProblem = validateActionName(request.action);
  if (actionProblem !== null) return denied([invalidActionReason(actionProblem)], null);

  const rules = resolveLayeredRules(parts, request.action);
  const rule = rules.decidingRule;
  if (rule === null) return denied([noMatchingRuleReason(request.action, parts.overrides.length)], null);
  let ruleSaid: Reason;
  if (rules.restricted !== null) ruleSaid = restrictionReason(request.action, rule, rules.restricted);
  else ruleSaid = ruleReason(request.action, rule, rules.chain.lockedOverride ? (rules.chain.group[0] ?? null) : null);
  if (rule.effect === "DENY") return denied([ruleSaid], rule);

  const failures = [
    ...rules.limitRules
      .filter((limited) => limited.maxCostPerAction !== null && cost > limited.maxCostPerAction)
      .map((limited) => costOverMaxReason(limited, cost)),
    ...caps.filter((cap) => !cap.fits && !cap.soft).map((cap) => capExceededReason(cap, cost)),
  ];
  if (failures.length > 0) return denied(failures, rule);

  const softFailures = caps.filter((cap) => !cap.fits && cap.soft).map((cap) => capExceededReason(cap, cost));
  if (rule.effect === "REQUIRE_APPROVAL" || softFailures.length > 0) {
    const reasons = rule.effect === "REQUIRE_APPROVAL" ? [ruleSaid, ...softFailures] : softFailures;
    return { outcome: "PENDING_APPROVAL", reasons, decidingRule: rule, caps, policies: refs };
  }
  const reserved = caps.map((cap) => ({ ...cap, spentAfter: cap.spentBefore + charge(cap, cost) }));
  return { outcome: "ALLOWED", reasons: [ruleSaid], decidingRule: rule, caps: reserved, policies: refs };
}

/**
 * The cap resolution of a chain's parts depends on nothing else, so it is computed once per
 * parts object: a prepared chain (cached per agent) resolves its caps once, not per decision.
 * The parts are never changed after they are split, so the result cannot go stale.
 */
const capGroups = new WeakMap<ChainParts, ReturnType<typeof resolveLayeredCaps>>();
function capGroupsOf(parts: ChainParts) {
  let groups = capGroups.get(parts);
  if (groups === undefined) {
    groups = resolveLayeredCaps(parts.overrides, parts.layers);
    capGroups.set(parts, groups);
  }
  return groups;
}

/** What an allowed action adds to a cap's counter: its cost, or 1 for a cap on ACTIONS. */
export function charge(cap: { measure?: "ACTIONS" }, cost: Money): Money {
  return cap.measure === "ACTIONS" ? 1n : cost;
}

/**
 * Every applicable cap with its counter and spend; spentAfter = spentBefore until ALLOWED.
 * A cap with a pattern the action does not match, or per RUN for an action outside a run,
 * does not count this action and is not listed.
 */
function checkCaps(parts: ChainParts, request: ActionRequest, spend: SpendView, now: Date, cost: Money): CapCheck[] {
  return capGroupsOf(parts).flatMap((group) => {
    if (group.pattern !== undefined && !matchesPattern(group.pattern, request.action)) return [];
    if (capSubject(group.per, request) === null) return [];
    const key = capKey(group, request, now);
    const serialized = serializeCapKey(key);
    const end = windowBounds(group.window, now).end;
    const spentBefore = spentOf(spend, serialized);
    return group.applied.map((cap) => ({
      ...cap,
      key: serialized,
      subject: key.subject,
      windowStart: key.windowStart,
      windowEnd: end === null ? null : end.toISOString(),
      spentBefore,
      spentAfter: spentBefore,
      fits: spentBefore + charge(cap, cost) <= cap.limit,
    }));
  });
}
