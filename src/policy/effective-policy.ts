/**
 * The merged view of a chain, for admins: per pattern, which rule applies, from which policy
 * and scope, which rules are overridden and by what, which locked rules still constrain;
 * per (per, window), which caps apply and which are replaced. It uses the very resolution
 * functions `evaluate` uses, so it cannot disagree with a decision.
 *
 * Each pattern entry describes the actions that pattern is the most specific pattern of in
 * the chain (for `llm.*`: an `llm.` action no exact or longer pattern names), resolved as
 * `evaluate` would resolve such an action. So an entry may be decided by a rule of another
 * pattern (an AGENT `llm.*` ALLOW decides for a GLOBAL `llm.completion` DENY).
 */
import { resolveCaps, type CapRef, type CapResolution } from "./cap-resolution";
import type { PolicyRef } from "./decision-types";
import { comparePatterns, representativeAction } from "./pattern";
import { comparePolicies, policyRef } from "./policy-chain";
import type { Money, Policy, RuleEffect } from "./policy-types";
import { resolveRules, type RuleRef } from "./rule-resolution";

export type RuleStatus =
  /** The rule the decision for this pattern's actions takes its effect from. */
  | "DECIDES"
  /** Does not decide but still constrains: a locked floor or a tied rule (its limit applies). */
  | "APPLIES"
  /** Has no effect on this pattern's actions: a more specific scope or pattern decides. */
  | "OVERRIDDEN";

export interface EffectiveRule {
  rule: RuleRef;
  status: RuleStatus;
  /** For APPLIES and OVERRIDDEN: the rule that won (for OVERRIDDEN, on scope or pattern). */
  by: RuleRef | null;
}

export interface EffectivePattern {
  pattern: string;
  /** The final effect for the actions this pattern is the most specific pattern of. */
  effect: RuleEffect;
  decidingRule: RuleRef;
  /** A locked rule of a broader scope or pattern made the effect stricter. */
  lockedOverride: boolean;
  /** The tightest max cost per action that applies (tie group and locked rules), or null. */
  maxCostPerAction: Money | null;
  /** Every rule written with exactly this pattern, in chain order. */
  rules: EffectiveRule[];
}

export interface EffectiveCaps extends Omit<CapResolution, "overridden"> {
  /** Unlocked broader caps replaced by the deciding scope's caps (`by`). */
  overridden: { cap: CapRef; by: CapRef[] }[];
}

export interface EffectivePolicy {
  /** The policies the view is built from, broadest scope first. */
  policies: PolicyRef[];
  /** One entry per distinct pattern, most specific first. */
  rules: EffectivePattern[];
  caps: EffectiveCaps[];
}

export interface EffectivePolicyOptions {
  /** Also count enabled SHADOW policies: the would-be view. Default false (enforced view). */
  includeShadow?: boolean;
}

const sameRule = (a: RuleRef, b: RuleRef) =>
  a.policyId === b.policyId && a.policyVersion === b.policyVersion && a.ruleId === b.ruleId && a.pattern === b.pattern;

/**
 * Builds the merged view of `chain`. Disabled policies are left out, and when `ownerRoles` is
 * given, so are ROLE policies of other roles (USER and AGENT policies are taken as selected).
 */
export function effectivePolicy(
  chain: readonly Policy[],
  ownerRoles?: readonly string[],
  options: EffectivePolicyOptions = {},
): EffectivePolicy {
  const policies = chain
    .filter((policy) => policy.enabled && (options.includeShadow === true || policy.mode === "ENFORCE"))
    .filter((policy) => ownerRoles === undefined || policy.scope !== "ROLE" || ownerRoles.includes(policy.scopeId ?? ""))
    .sort(comparePolicies);
  const patterns = [...new Set(policies.flatMap((policy) => policy.rules.map((rule) => rule.pattern)))].sort(comparePatterns);
  return {
    policies: policies.map(policyRef),
    rules: patterns.flatMap((pattern) => explainPattern(policies, pattern)),
    caps: resolveCaps(policies).map((group) => {
      const winners = group.applied.filter((cap) => cap.scope === group.decidingScope);
      return { ...group, overridden: group.overridden.map((cap) => ({ cap, by: winners })) };
    }),
  };
}

function explainPattern(policies: readonly Policy[], pattern: string): EffectivePattern[] {
  const resolution = resolveRules(policies, representativeAction(pattern));
  const decider = resolution.decidingRule;
  const normalWinner = resolution.group[0];
  if (decider === null || normalWinner === undefined) return []; // unreachable: the pattern's own rules match
  const constraining = [...resolution.group, ...resolution.locked];
  const rules = resolution.matched
    .filter((rule) => rule.pattern === pattern)
    .map((rule): EffectiveRule => {
      if (sameRule(rule, decider)) return { rule, status: "DECIDES", by: null };
      if (constraining.some((other) => sameRule(other, rule))) return { rule, status: "APPLIES", by: decider };
      return { rule, status: "OVERRIDDEN", by: normalWinner };
    });
  const tightest = resolution.limitRules[0];
  return [
    {
      pattern,
      effect: decider.effect,
      decidingRule: decider,
      lockedOverride: resolution.lockedOverride,
      maxCostPerAction: tightest === undefined ? null : tightest.maxCostPerAction,
      rules,
    },
  ];
}
