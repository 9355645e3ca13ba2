/**
 * Which action rule decides an action (the policy model in README), shared by `evaluate`
 * and `effectivePolicy` so an explanation can never disagree with a decision.
 *
 * 1. Among the rules matching the action, the most specific SCOPE that has any decides.
 * 2. Inside that scope, the most specific PATTERN decides; the rules left (the "tie group":
 *    same scope and pattern, e.g. two ROLE policies of two roles of the owner) combine
 *    restrictively: the group's effect is the most restrictive of their effects
 *    (DENY > REQUIRE_APPROVAL > ALLOW) and every `maxCostPerAction` among them applies.
 * 3. Locked rules bind narrower scopes only. Inside its own scope a locked rule is ordered
 *    by pattern like any other: it is a floor for an action only when it is among the most
 *    specific matching patterns of its scope, so a more specific rule of the same scope (a
 *    carve-out, locked or not: "deny `llm.*` except `llm.chat`") takes the action out of it.
 *    A floor applies whatever narrower scopes say: the final effect is the most restrictive
 *    of the group's effect and every floor's, and every floor's max cost applies too. A
 *    locked rule can therefore only make a decision more restrictive, never less.
 * Every choice is made under a total order, so the input order of policies and rules never
 * matters.
 */
import { specificity } from "./pattern";
import {
  effectRank,
  scopeRank,
  type ActionRule,
  type Money,
  policyPart,
  type Policy,
  type PolicyPart,
  type PolicyScope,
  type RuleEffect,
} from "./policy-types";
import type { RuleIndex } from "./rule-index";

/** A rule together with the policy version it came from: everything a reviewer needs. */
export interface RuleRef extends PolicyPart {
  ruleId: string;
  pattern: string;
  effect: RuleEffect;
  locked: boolean;
  maxCostPerAction: Money | null;
  /** Only present when the rule has one, so decisions recorded before keep their digest. */
  overrunAllowance?: Money;
}

export interface RuleResolution {
  /** Every matching rule: broadest scope first, then most specific pattern first. */
  matched: RuleRef[];
  /** The scope that decides, or null when no rule matches. */
  decidingScope: PolicyScope | null;
  /** Matching rules of the deciding scope with its most specific pattern; decider first. */
  group: RuleRef[];
  /**
   * The floors: every matching locked rule not carved out by a more specific matching rule
   * of its own scope; strictest first, then broadest scope first.
   */
  locked: RuleRef[];
  /** The rule whose effect the decision takes; null when no rule matches. */
  decidingRule: RuleRef | null;
  /** True when a locked rule is stricter than the group and therefore decides. */
  lockedOverride: boolean;
  /** Rules whose max cost applies (group and locked), tightest first. */
  limitRules: RuleRef[];
}

export function ruleRef(policy: Policy, rule: ActionRule): RuleRef {
  return {
    ...policyPart(policy),
    ruleId: rule.id,
    pattern: rule.pattern,
    effect: rule.effect,
    locked: rule.locked,
    maxCostPerAction: rule.maxCostPerAction ?? null,
    ...(rule.overrunAllowance === undefined ? {} : { overrunAllowance: rule.overrunAllowance }),
  };
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending, with null (no limit) after every limit. */
export function compareLimits(a: Money | null, b: Money | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** A total order on rule refs by identity, then content; the last word of every sort. */
function compareIdentity(a: RuleRef, b: RuleRef): number {
  return (
    compareStrings(a.policyId, b.policyId) ||
    a.policyVersion - b.policyVersion ||
    compareStrings(a.ruleId, b.ruleId) ||
    compareStrings(a.pattern, b.pattern) ||
    effectRank(b.effect) - effectRank(a.effect) ||
    Number(b.locked) - Number(a.locked) ||
    compareLimits(a.maxCostPerAction, b.maxCostPerAction)
  );
}

/** Broadest scope first, most specific pattern first: the reading order of a chain. */
export function compareRulesInChain(a: RuleRef, b: RuleRef): number {
  return (
    scopeRank(a.scope) - scopeRank(b.scope) ||
    specificity(b.pattern) - specificity(a.pattern) ||
    compareIdentity(a, b)
  );
}

/** Inside a tie group: strictest effect first, then tightest limit, then identity. */
function compareInGroup(a: RuleRef, b: RuleRef): number {
  return (
    effectRank(b.effect) - effectRank(a.effect) ||
    compareLimits(a.maxCostPerAction, b.maxCostPerAction) ||
    compareIdentity(a, b)
  );
}

/** Locked rules: strictest first; among equals the broadest scope (the one that locked it). */
function compareLocked(a: RuleRef, b: RuleRef): number {
  return effectRank(b.effect) - effectRank(a.effect) || compareRulesInChain(a, b);
}

export function compareByLimit(a: RuleRef, b: RuleRef): number {
  return compareLimits(a.maxCostPerAction, b.maxCostPerAction) || compareRulesInChain(a, b);
}

const NO_MATCH: RuleResolution = {
  matched: [],
  decidingScope: null,
  group: [],
  locked: [],
  decidingRule: null,
  lockedOverride: false,
  limitRules: [],
};

/** The matching locked rules that are among the most specific patterns of their own scope. */
function floors(matched: readonly RuleRef[]): RuleRef[] {
  const top = new Map<PolicyScope, number>();
  for (const rule of matched) top.set(rule.scope, Math.max(top.get(rule.scope) ?? -1, specificity(rule.pattern)));
  return matched.filter((rule) => rule.locked && specificity(rule.pattern) === top.get(rule.scope));
}

/**
 * Resolves the rules of some policies (already reduced to the ones that count: enabled,
 * applicable, of the evaluated modes; see `RuleIndex`) for `action`. Pure; the result is
 * independent of the order of the policies and of their rules.
 */
export function resolveRules(rules: RuleIndex, action: string): RuleResolution {
  const matched = rules.matching(action).sort(compareRulesInChain);
  if (matched.length === 0) return { ...NO_MATCH };
  const topScope = Math.max(...matched.map((rule) => scopeRank(rule.scope)));
  const inScope = matched.filter((rule) => scopeRank(rule.scope) === topScope);
  const topPattern = Math.max(...inScope.map((rule) => specificity(rule.pattern)));
  const group = inScope.filter((rule) => specificity(rule.pattern) === topPattern).sort(compareInGroup);
  const locked = floors(matched).sort(compareLocked);
  const groupDecider = group[0];
  if (groupDecider === undefined) return { ...NO_MATCH }; // unreachable: matched is not empty
  const strictestLocked = locked[0];
  const lockedOverride =
    strictestLocked !== undefined && effectRank(strictestLocked.effect) > effectRank(groupDecider.effect);
  const limited = new Set([...group, ...locked].filter((rule) => rule.maxCostPerAction !== null));
  return {
    matched,
    decidingScope: groupDecider.scope,
    group,
    locked,
    decidingRule: lockedOverride && strictestLocked ? strictestLocked : groupDecider,
    lockedOverride,
    limitRules: [...limited].sort(compareByLimit),
  };
}
