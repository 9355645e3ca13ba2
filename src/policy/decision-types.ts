/**
 * What the evaluator returns: the outcome, reasons a person can read, and everything an
 * auditor needs to replay it (the deciding rule, every applicable cap with its spend before
 * and after, the policy versions considered). Money stays bigint: serialize it as a string.
 */
import type { CapRef } from "./cap-resolution";
import type { Money, PolicyAuthority, PolicyMode, PolicyScope } from "./policy-types";
import type { RuleRef } from "./rule-resolution";

export type Outcome = "ALLOWED" | "DENIED" | "PENDING_APPROVAL";

/** Outcomes from the most permissive to the most restrictive; the index is the rank. */
export const OUTCOMES: readonly Outcome[] = ["ALLOWED", "PENDING_APPROVAL", "DENIED"];

export type ReasonCode =
  | "RULE_ALLOW"
  | "RULE_REQUIRE_APPROVAL"
  | "RULE_DENY"
  | "NO_MATCHING_RULE"
  | "COST_OVER_RULE_MAX"
  | "CAP_EXCEEDED"
  | "SOFT_CAP_EXCEEDED"
  | "INVALID_COST"
  | "INVALID_ACTION";

/** One applicable cap, checked against the spend view. */
export interface CapCheck extends CapRef {
  /** The counter (`serializeCapKey`); caps with the same (per, window) share it. */
  key: string;
  subject: string;
  /** ISO start of the window instance, or "TOTAL". */
  windowStart: string;
  /** ISO end (exclusive) of the window instance; null for TOTAL. */
  windowEnd: string | null;
  spentBefore: Money;
  /**
   * spentBefore + cost (+ 1 for a cap on ACTIONS) when the outcome is ALLOWED (the
   * reservation), else spentBefore.
   */
  spentAfter: Money;
  /**
   * spentBefore + cost <= limit (+ 1 for ACTIONS). Reported for every outcome, binding only
   * for non-DENY rules; a soft cap that does not fit holds the action for approval.
   */
  fits: boolean;
}

export interface Reason {
  code: ReasonCode;
  /** Names the exact rule or cap: scope, policy, pattern or counter, window, limit, spend, cost. */
  message: string;
  /** The rule this reason is about (RULE_*, COST_OVER_RULE_MAX). */
  rule?: RuleRef;
  /**
   * For a locked rule or a restriction layer's rule that decided: the rule the chain's
   * normal precedence (without the lock, or without the layer) would have decided by.
   */
  overrides?: RuleRef;
  /** The cap this reason is about (CAP_EXCEEDED). */
  cap?: CapCheck;
  cost?: Money;
}

export interface PolicyRef {
  id: string;
  version: number;
  name: string;
  scope: PolicyScope;
  scopeId: string | null;
  mode: PolicyMode;
  authority: PolicyAuthority;
}

export interface DecisionCore {
  outcome: Outcome;
  /** DENIED: every failure found (all failing limits together); otherwise the deciding rule. */
  reasons: Reason[];
  /** The rule whose effect the decision took; null for no match and invalid input. */
  decidingRule: RuleRef | null;
  /** Every applicable cap; empty only for an invalid cost. */
  caps: CapCheck[];
  /** The policies this decision considered, broadest scope first. */
  policies: readonly PolicyRef[];
}

export interface Decision extends DecisionCore {
  /**
   * The decision had the enabled SHADOW policies been enforced too (ENFORCE + SHADOW); null
   * when the chain has none. Informational: it never blocks and never charges.
   */
  wouldBe: DecisionCore | null;
}

export function outcomeRank(outcome: Outcome): number {
  return OUTCOMES.indexOf(outcome);
}
