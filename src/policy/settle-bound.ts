/**
 * How far a settle may go (the policy model in README): pure, no I/O, no clock.
 *
 * A settle at or below what the action holds on its counters is always accepted: the room was
 * taken when it was decided. Above that it is bounded twice:
 *
 * 1. The ceiling, set by the rules the action was decided under (the deciding rule, every
 *    rule whose max cost per action applied to it, and the deciding group and locked floors
 *    of the chain and of every restriction layer, layered-resolution.ts). Each such rule
 *    bounds the actual cost at
 *      - estimate + its `overrunAllowance`, when it has one;
 *      - else its `maxCostPerAction` (a settle may cost what a submission could have), when set;
 *    and the ceiling is the lowest of those. No rule bounds it: estimate + estimate (an
 *    overrun of at most 100 %; an action estimated at 0 settles at 0 at most).
 * 2. Every cap the action was decided under: the counter may end at most `overrunAllowance`
 *    (default 0) above the cap's limit, counting the spend on it at settle time without
 *    what this action holds: actual <= limit + allowance - (spent - held).
 *
 * So a counter is never exceeded by more than the largest allowance of a cap on it, and one
 * tenant can never settle into another tenant's room beyond that.
 */
import type { CapCheck } from "./decision-types";
import { resolveLayeredRules } from "./layered-resolution";
import { preparedFor, type ChainInput } from "./policy-chain";
import type { ActionRequest, Money, SpendView } from "./policy-types";
import type { RuleRef } from "./rule-resolution";

/** One cap a settle must fit: its counter, limit and the overrun it tolerates. */
export interface SettleCap {
  capId: string;
  policyId: string;
  policyVersion: number;
  per: string;
  window: string;
  /** The counter (`serializeCapKey`). */
  key: string;
  limit: Money;
  allowance: Money;
}

export interface SettleBound {
  /** The most the action may be settled at, whatever its caps say. */
  ceiling: Money;
  /** What set the ceiling: a rule's allowance, a rule's max cost, or the default. */
  source: { kind: "RULE_ALLOWANCE" | "RULE_MAX_COST"; ruleId: string; policyId: string; policyVersion: number } | { kind: "DEFAULT" };
  caps: SettleCap[];
}

/** Why a settle was refused: which bound, what it allows, what was asked. */
export interface SettleRefusal {
  bound: "CEILING" | "CAP";
  message: string;
  allowed: Money;
  requested: Money;
  source?: SettleBound["source"];
  cap?: SettleCap;
  /** For CAP: the spend on the counter at settle time, without what the action holds. */
  spent?: Money;
}

/** The ceiling one rule sets for an action estimated at `estimate`; null: it sets none. */
function ruleCeiling(rule: RuleRef, estimate: Money): Money | null {
  if (rule.overrunAllowance !== undefined) return estimate + rule.overrunAllowance;
  if (rule.maxCostPerAction !== null) return rule.maxCostPerAction > estimate ? rule.maxCostPerAction : estimate;
  return null;
}

/** The ceiling of the rules an action was decided under (see the module comment). */
export function settleCeiling(rules: readonly RuleRef[], estimate: Money): Pick<SettleBound, "ceiling" | "source"> {
  let best: Pick<SettleBound, "ceiling" | "source"> = { ceiling: estimate * 2n, source: { kind: "DEFAULT" } };
  let bounded = false;
  for (const rule of rules) {
    const ceiling = ruleCeiling(rule, estimate);
    if (ceiling === null || (bounded && ceiling >= best.ceiling)) continue;
    const kind = rule.overrunAllowance !== undefined ? "RULE_ALLOWANCE" : "RULE_MAX_COST";
    best = { ceiling, source: { kind, ruleId: rule.ruleId, policyId: rule.policyId, policyVersion: rule.policyVersion } };
    bounded = true;
  }
  return best;
}

/** The caps a settle can move: spend caps (a velocity cap's count is final at the decision). */
export function settleCaps(caps: readonly CapCheck[]): SettleCap[] {
  return caps.filter((cap) => cap.measure !== "ACTIONS").map((cap) => ({
    capId: cap.capId,
    policyId: cap.policyId,
    policyVersion: cap.policyVersion,
    per: cap.per,
    window: cap.window,
    key: cap.key,
    limit: cap.limit,
    allowance: cap.overrunAllowance ?? 0n,
  }));
}

/**
 * The bound of an action decided ALLOWED under `chain` with these `caps` (the decision's, so
 * their counters are the ones the action is charged on).
 */
export function settleBound(chain: ChainInput, request: ActionRequest, caps: readonly CapCheck[]): SettleBound {
  const rules = resolveLayeredRules(preparedFor(chain, request).enforced, request.action);
  // The deciding rule, every rule whose max cost applied, and every rule of the chain's and
  // each layer's deciding group and floors (an allowance there binds even without a max).
  const considered = [
    ...(rules.decidingRule === null ? [] : [rules.decidingRule]),
    ...rules.limitRules,
    ...[rules.chain, ...rules.layers].flatMap((resolution) => [...resolution.group, ...resolution.locked]),
  ];
  return { ...settleCeiling(considered, request.estimatedCost), caps: settleCaps(caps) };
}

const units = (amount: Money) => {
  const sign = amount < 0n ? "-" : "";
  const abs = amount < 0n ? -amount : amount;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0")}`;
};

/**
 * Null when `actual` may be settled: `spend` is the spend on the bound's counters now (held
 * included), `held` what the action holds on them (0 for a late settle, whose reservation
 * was released). Otherwise the first bound it breaks, with what that bound allows.
 */
export function checkSettle(bound: SettleBound, spend: SpendView, held: Money, actual: Money): SettleRefusal | null {
  if (actual > bound.ceiling) {
    return {
      bound: "CEILING",
      message: `Settling at ${units(actual)} is above the ceiling of ${units(bound.ceiling)} the policy sets for this action (${bound.source.kind})`,
      allowed: bound.ceiling,
      requested: actual,
      source: bound.source,
    };
  }
  if (actual <= held) return null;
  for (const cap of bound.caps) {
    const spent = (spend.get(cap.key) ?? 0n) - held;
    const room = cap.limit + cap.allowance - spent;
    if (actual > room) {
      const allowed = room > held ? room : held;
      return {
        bound: "CAP",
        message: `Settling at ${units(actual)} would take the ${cap.per} ${cap.window} cap (limit ${units(cap.limit)}, overrun allowance ${units(cap.allowance)}) past its bound: ${units(spent)} already spent by others`,
        allowed: allowed < bound.ceiling ? allowed : bound.ceiling,
        requested: actual,
        cap,
        spent,
      };
    }
  }
  return null;
}

/** The bound as JSON (money as decimal strings), for the decision record. */
export function storeSettleBound(bound: SettleBound) {
  return {
    ceiling: bound.ceiling.toString(),
    source: bound.source,
    caps: bound.caps.map((cap) => ({ ...cap, limit: cap.limit.toString(), allowance: cap.allowance.toString() })),
  };
}

export type StoredSettleBound = ReturnType<typeof storeSettleBound>;

export function loadSettleBound(stored: StoredSettleBound): SettleBound {
  return {
    ceiling: BigInt(stored.ceiling),
    source: stored.source,
    caps: stored.caps.map((cap) => ({ ...cap, limit: BigInt(cap.limit), allowance: BigInt(cap.allowance) })),
  };
}
