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
 *
 * Restriction layers (layered-resolution.ts) are shown where they count: their rules and caps
 * carry `authority: RESTRICTION`; a pattern whose effect a layer made stricter than the chain
 * is `restricted`, decided by the layer's rule; their caps are `applied` with the chain's.
 */
import { resolveLayeredCaps, type CapRef, type CapResolution } from "./cap-resolution";
import type { PolicyRef } from "./decision-types";
import { resolveLayeredRules } from "./layered-resolution";
import { comparePatterns, representativeAction } from "./pattern";
import { policyRef, splitChain, type ChainParts } from "./policy-chain";
import type { Money, Policy, RuleEffect } from "./policy-types";
import type { RuleRef } from "./rule-resolution";

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
  /** Null when no rule of the chain matches: the default deny (no layer can allow). */
  decidingRule: RuleRef | null;
  /** A locked rule of a broader scope or pattern made the chain's effect stricter. */
  lockedOverride: boolean;
  /** A restriction layer made the effect stricter than the chain's: its rule decides. */
  restricted: boolean;
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
    .filter((policy) => ownerRoles === undefined || policy.scope !== "ROLE" || ownerRoles.includes(policy.scopeId ?? ""));
  const parts = splitChain(policies);
  const patterns = [...new Set(parts.all.flatMap((policy) => policy.rules.map((rule) => rule.pattern)))].sort(comparePatterns);
  return {
    policies: parts.all.map(policyRef),
    rules: patterns.map((pattern) => explainPattern(parts, pattern)),
    caps: resolveLayeredCaps(parts.overrides, parts.layers).map((group) => {
      const winners = group.applied.filter((cap) => cap.scope === group.decidingScope && cap.authority !== "RESTRICTION");
      return { ...group, overridden: group.overridden.map((cap) => ({ cap, by: winners })) };
    }),
  };
}

function explainPattern(parts: ChainParts, pattern: string): EffectivePattern {
  const resolution = resolveLayeredRules(parts, representativeAction(pattern));
  const decider = resolution.decidingRule;
  const { chain } = resolution;
  const constraining = [...chain.group, ...chain.locked, ...resolution.layers.flatMap((layer) => layer.group)];
  const winnerOf = (rule: RuleRef): RuleRef | null =>
    rule.authority === "RESTRICTION"
      ? (resolution.layers.find((layer) => layer.group[0]?.policyId === rule.policyId)?.group[0] ?? null)
      : (chain.group[0] ?? null);
  const matched = [...chain.matched, ...resolution.layers.flatMap((layer) => layer.matched)];
  const rules = matched
    .filter((rule) => rule.pattern === pattern)
    .map((rule): EffectiveRule => {
      if (decider !== null && sameRule(rule, decider)) return { rule, status: "DECIDES", by: null };
      if (constraining.some((other) => sameRule(other, rule))) return { rule, status: "APPLIES", by: decider };
      return { rule, status: "OVERRIDDEN", by: winnerOf(rule) };
    });
  const tightest = resolution.limitRules[0];
  return {
    pattern,
    effect: decider === null ? "DENY" : decider.effect,
    decidingRule: decider,
    lockedOverride: resolution.restricted === null && chain.lockedOverride,
    restricted: resolution.restricted !== null,
    maxCostPerAction: tightest === undefined ? null : tightest.maxCostPerAction,
    rules,
  };
}
