/**
 * Restriction layers (the policy model in README), shared by `evaluate` and
 * `effectivePolicy`. The OVERRIDE policies form the chain that rule 2 resolves; each
 * RESTRICTION policy is a layer resolved on its own (its most specific matching pattern
 * decides, ties restrictively). The outcome is the stricter of the chain and every layer:
 *
 * - effect: the most restrictive of the chain's and each layer's deciding effect; a layer
 *   without a matching rule adds nothing, and no layer can answer where the chain has no
 *   matching rule (the default deny stands);
 * - max cost per action: the chain's limits and every layer's deciding group's limits;
 * - caps: see cap-resolution.ts (`resolveLayeredCaps`).
 *
 * Everything is decided when the action is, from the chain as it is then: a layer never
 * depends on what the chain said when it was written.
 */
import type { ChainParts } from "./policy-chain";
import { effectRank } from "./policy-types";
import { compareByLimit, resolveRules, type RuleRef, type RuleResolution } from "./rule-resolution";

export interface LayeredRules {
  /** The chain's resolution (OVERRIDE policies only). */
  chain: RuleResolution;
  /** The resolution of each layer that has a rule matching the action, in chain order. */
  layers: RuleResolution[];
  /** The rule the decision takes its effect from; null when the chain has no matching rule. */
  decidingRule: RuleRef | null;
  /** When a layer's rule decides: the chain's rule it is stricter than; else null. */
  restricted: RuleRef | null;
  /** Every rule whose max cost applies (chain and layers), tightest first. */
  limitRules: RuleRef[];
}

export function resolveLayeredRules(parts: Pick<ChainParts, "overrideRules" | "layerRules">, action: string): LayeredRules {
  const chain = resolveRules(parts.overrideRules, action);
  const layers =
    parts.layerRules.length === 0 ? [] : parts.layerRules.map((layer) => resolveRules(layer, action)).filter((layer) => layer.decidingRule !== null);
  if (layers.length === 0) return { chain, layers, decidingRule: chain.decidingRule, restricted: null, limitRules: chain.limitRules };
  let decidingRule = chain.decidingRule;
  let restricted: RuleRef | null = null;
  if (decidingRule !== null) {
    for (const layer of layers) {
      const said = layer.decidingRule as RuleRef;
      if (effectRank(said.effect) > effectRank(decidingRule.effect)) {
        restricted = restricted ?? decidingRule;
        decidingRule = said;
      }
    }
  }
  const limited = new Set([...chain.limitRules, ...layers.flatMap((layer) => layer.limitRules)]);
  return { chain, layers, decidingRule, restricted, limitRules: [...limited].sort(compareByLimit) };
}
