/**
 * Human-readable reasons. Each message names the exact rule or cap (scope, policy name and
 * version, pattern or counter, window, limit, spend, cost), never just "budget exceeded".
 * Amounts are printed in currency units with all six decimals, so they stay exact.
 */
import type { CapCheck, Reason } from "./decision-types";
import { MICROS_PER_UNIT, type Money } from "./policy-types";
import type { RuleRef } from "./rule-resolution";

/** `1500000n` -> "1.500000", `-250n` -> "-0.000250". Exact: no float is involved. */
export function formatMoney(amount: Money): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const units = abs / MICROS_PER_UNIT;
  const micros = (abs % MICROS_PER_UNIT).toString().padStart(6, "0");
  return `${negative ? "-" : ""}${units}.${micros}`;
}

function scopeLabel(scope: string, scopeId: string | null): string {
  return scopeId === null ? scope : `${scope} ${scopeId}`;
}

/** ", a restriction layer written by the agent's owner" for a RESTRICTION policy's part. */
function layerLabel(part: Pick<RuleRef, "authority">): string {
  return part.authority === "RESTRICTION" ? " (a restriction layer written by the agent's owner)" : "";
}

/** "locked rule 'r1' (DENY payments.*, max 5.000000) of GLOBAL policy 'Baseline' v3". */
export function describeRule(rule: RuleRef): string {
  const max = rule.maxCostPerAction === null ? "" : `, max ${formatMoney(rule.maxCostPerAction)} per action`;
  return (
    `${rule.locked ? "locked " : ""}rule '${rule.ruleId}' (${rule.effect} ${rule.pattern}${max}) ` +
    `of ${scopeLabel(rule.scope, rule.scopeId)} policy '${rule.policyName}' v${rule.policyVersion}${layerLabel(rule)}`
  );
}

/** "locked spend cap 'c1' (per AGENT a1, DAY window ...) of GLOBAL policy 'Baseline' v3". */
export function describeCap(cap: CapCheck): string {
  const window =
    cap.windowEnd === null ? "TOTAL window (never resets)" : `${cap.window} window ${cap.windowStart} to ${cap.windowEnd}`;
  const kind = cap.measure === "ACTIONS" ? "velocity cap" : "spend cap";
  const limit = cap.measure === "ACTIONS" ? `at most ${cap.limit} actions` : `limit ${formatMoney(cap.limit)}`;
  const scoped = cap.pattern === undefined ? "" : `, actions '${cap.pattern}'`;
  return (
    `${cap.locked ? "locked " : ""}${cap.soft ? "soft " : ""}${kind} '${cap.capId}' (per ${cap.per} ${cap.subject}${scoped}, ${window}, ` +
    `${limit}) of ${scopeLabel(cap.scope, cap.scopeId)} policy '${cap.policyName}' ` +
    `v${cap.policyVersion}${layerLabel(cap)}`
  );
}

export function ruleReason(action: string, rule: RuleRef, overrides: RuleRef | null): Reason {
  const verb =
    rule.effect === "ALLOW" ? "is allowed" : rule.effect === "DENY" ? "is denied" : "requires approval";
  const locked =
    overrides === null
      ? ""
      : `; the rule is locked, so it applies over ${describeRule(overrides)}, which would have decided ${overrides.effect}`;
  const reason: Reason = {
    code: `RULE_${rule.effect}`,
    message: `Action '${action}' ${verb} by ${describeRule(rule)}${locked}.`,
    rule,
  };
  if (overrides !== null) reason.overrides = overrides;
  return reason;
}

/** A restriction layer's rule decided: it is stricter than what the chain above it says. */
export function restrictionReason(action: string, rule: RuleRef, chainSaid: RuleRef): Reason {
  const verb = rule.effect === "DENY" ? "is denied" : "requires approval";
  return {
    code: `RULE_${rule.effect}`,
    message:
      `Action '${action}' ${verb} by ${describeRule(rule)}, which is stricter than the chain above it: ` +
      `that would have decided ${chainSaid.effect} by ${describeRule(chainSaid)}.`,
    rule,
    overrides: chainSaid,
  };
}

export function noMatchingRuleReason(action: string, policyCount: number): Reason {
  return {
    code: "NO_MATCHING_RULE",
    message:
      `No rule of the ${policyCount} applicable enabled ${policyCount === 1 ? "policy" : "policies"} ` +
      `matches action '${action}': the GLOBAL default (deny) applies.`,
  };
}

export function costOverMaxReason(rule: RuleRef, cost: Money): Reason {
  const max = rule.maxCostPerAction ?? 0n;
  return {
    code: "COST_OVER_RULE_MAX",
    message:
      `Estimated cost ${formatMoney(cost)} exceeds the max cost per action ${formatMoney(max)} ` +
      `(by ${formatMoney(cost - max)}) of ${describeRule(rule)}.`,
    rule,
    cost,
  };
}

export function capExceededReason(cap: CapCheck, cost: Money): Reason {
  const total = cap.spentBefore + cost;
  if (cap.measure === "ACTIONS") {
    return {
      code: cap.soft ? "SOFT_CAP_EXCEEDED" : "CAP_EXCEEDED",
      message:
        `One more action does not fit ${describeCap(cap)}: ${cap.spentBefore} already allowed` +
        `${cap.soft ? "; held for a person to approve" : ""}.`,
      cap,
      cost,
    };
  }
  if (cap.soft) {
    return {
      code: "SOFT_CAP_EXCEEDED",
      message:
        `Estimated cost ${formatMoney(cost)} goes past ${describeCap(cap)}: already spent ` +
        `${formatMoney(cap.spentBefore)}, would reach ${formatMoney(total)}; held for a person to approve.`,
      cap,
      cost,
    };
  }
  return {
    code: "CAP_EXCEEDED",
    message:
      `Estimated cost ${formatMoney(cost)} does not fit ${describeCap(cap)}: already spent ` +
      `${formatMoney(cap.spentBefore)}, would reach ${formatMoney(total)}, over the limit by ` +
      `${formatMoney(total - cap.limit)}.`,
    cap,
    cost,
  };
}

export function invalidCostReason(cost: unknown): Reason {
  const shown = typeof cost === "bigint" ? `${cost} micro-units` : `${typeof cost} ${String(cost)}`;
  return {
    code: "INVALID_COST",
    message: `Estimated cost ${shown} is invalid: a cost is a whole, non-negative number of micro-units.`,
  };
}

export function invalidActionReason(problem: string): Reason {
  return { code: "INVALID_ACTION", message: `Invalid action: ${problem}.` };
}

/**
 * CAP_EXCEEDED of a platform-wide (GLOBAL) counter as told to someone who may not read
 * everyone's spend: which cap, its window and the cost, but neither the limit nor the spend
 * (those are the sum of every tenant's actions). The cap is named by its fields, since a
 * public reason no longer holds the checked cap.
 */
export function platformCapReachedMessage(cap: {
  capId: string;
  window: string;
  windowStart: string;
  windowEnd: string | null;
  scope: string;
  scopeId: string | null;
  policyName: string;
  policyVersion: number;
  authority?: string;
  cost: Money | null;
}): string {
  const window = cap.windowEnd === null ? "TOTAL window (never resets)" : `${cap.window} window ${cap.windowStart} to ${cap.windowEnd}`;
  const cost = cap.cost === null ? "The estimated cost" : `Estimated cost ${formatMoney(cap.cost)}`;
  return (
    `${cost} does not fit spend cap '${cap.capId}' (per GLOBAL, all agents of the platform, ${window}) of ` +
    `${scopeLabel(cap.scope, cap.scopeId)} policy '${cap.policyName}' v${cap.policyVersion}` +
    `${layerLabel({ authority: cap.authority === "RESTRICTION" ? "RESTRICTION" : "OVERRIDE" })}: the platform-wide cap is reached. ` +
    `Its limit and spend are shown only to those who may read everyone's spend.`
  );
}
