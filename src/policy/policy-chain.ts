/**
 * Selecting, ordering and splitting the policies of a chain. The loader already selects by
 * scope; the evaluator checks again and sorts itself, so neither a stray policy nor the input
 * order can change a decision.
 */
import type { PolicyRef } from "./decision-types";
import { scopeRank, type ActionRequest, type Policy } from "./policy-types";
import { RuleIndex } from "./rule-index";
import { compareStrings } from "./rule-resolution";

/**
 * Whether a policy concerns this request: GLOBAL always, ROLE when its role is one of the
 * owner's, USER when it is the owner's, AGENT when it is this agent's. A policy of another
 * agent, user or role can thus never leak into a decision. `ownerRoles` must be the owner's
 * effective roles (inheritance resolved), or ROLE policies of inherited roles are ignored.
 */
export function appliesTo(policy: Policy, request: Pick<ActionRequest, "agentId" | "ownerId" | "ownerRoles">): boolean {
  switch (policy.scope) {
    case "GLOBAL":
      return true;
    case "ROLE":
      return policy.scopeId !== null && request.ownerRoles.includes(policy.scopeId);
    case "USER":
      return policy.scopeId === request.ownerId;
    case "AGENT":
      return policy.scopeId === request.agentId;
  }
}

/** Broadest scope first (GLOBAL ... AGENT), then id and version: never the input order. */
export function comparePolicies(a: Policy, b: Policy): number {
  return scopeRank(a.scope) - scopeRank(b.scope) || compareStrings(a.id, b.id) || a.version - b.version;
}

export function policyRef(policy: Policy): PolicyRef {
  const { id, version, name, scope, scopeId, mode, authority } = policy;
  return { id, version, name, scope, scopeId, mode, authority };
}

/**
 * A chain split by authority (the policy model in README): the OVERRIDE policies form the
 * chain that rules 2 and 3 resolve; each RESTRICTION policy is a layer of its own beside it.
 * One layer per policy, not one for all of them: a second restriction can then never loosen
 * what a first one restricts (a layer's `llm.chat ALLOW` does not carve into another
 * layer's `llm.* DENY`). Both lists are sorted (comparePolicies).
 */
export interface ChainParts {
  /** Every policy considered, sorted. */
  all: Policy[];
  /** Their refs: the decision's `policies` (shared by every decision on these parts, so frozen). */
  refs: readonly PolicyRef[];
  overrides: Policy[];
  layers: Policy[];
  /** The action rules of `overrides`, and of each layer, by pattern. */
  overrideRules: RuleIndex;
  layerRules: RuleIndex[];
}

/** Splits `policies` (already selected) by authority; sorts them. */
export function splitChain(policies: readonly Policy[]): ChainParts {
  const all = [...policies].sort(comparePolicies);
  const overrides = all.filter((policy) => policy.authority !== "RESTRICTION");
  const layers = all.filter((policy) => policy.authority === "RESTRICTION");
  return {
    all,
    refs: Object.freeze(all.map((policy) => Object.freeze(policyRef(policy)))),
    overrides,
    layers,
    overrideRules: new RuleIndex(overrides),
    layerRules: layers.map((layer) => new RuleIndex([layer])),
  };
}

/**
 * A chain made ready for many evaluations of one agent's requests: selected for its target
 * (enabled, applicable), sorted and split once, for the enforced pass and (when the chain has
 * an enabled SHADOW policy) the would-be pass. The action path prepares a chain when it
 * caches it, so a decision does no sorting or splitting of its own.
 */
export interface PreparedChain {
  readonly kind: "prepared";
  /** The chain as given. */
  readonly source: readonly Policy[];
  readonly target: { agentId: string; ownerId: string; ownerRoles: readonly string[] };
  readonly enforced: ChainParts;
  /** ENFORCE + SHADOW; null when no enabled SHADOW policy applies. */
  readonly withShadow: ChainParts | null;
}

export type ChainInput = readonly Policy[] | PreparedChain;

export function prepareChain(chain: ChainInput, target: Pick<ActionRequest, "agentId" | "ownerId" | "ownerRoles">): PreparedChain {
  const source = isPrepared(chain) ? chain.source : chain;
  const considered = source.filter((policy) => policy.enabled && appliesTo(policy, target));
  const hasShadow = considered.some((policy) => policy.mode !== "ENFORCE");
  return {
    kind: "prepared",
    source,
    target: { agentId: target.agentId, ownerId: target.ownerId, ownerRoles: [...target.ownerRoles] },
    enforced: splitChain(considered.filter((policy) => policy.mode === "ENFORCE")),
    withShadow: hasShadow ? splitChain(considered) : null,
  };
}

export function isPrepared(chain: ChainInput): chain is PreparedChain {
  return !Array.isArray(chain) && (chain as PreparedChain).kind === "prepared";
}

/** The prepared form of `chain` for `request`: itself when it was prepared for the same target. */
export function preparedFor(chain: ChainInput, request: Pick<ActionRequest, "agentId" | "ownerId" | "ownerRoles">): PreparedChain {
  if (isPrepared(chain) && sameTarget(chain.target, request)) return chain;
  return prepareChain(chain, request);
}

function sameTarget(target: PreparedChain["target"], request: Pick<ActionRequest, "agentId" | "ownerId" | "ownerRoles">): boolean {
  if (target.agentId !== request.agentId || target.ownerId !== request.ownerId) return false;
  if (target.ownerRoles === request.ownerRoles) return true;
  return target.ownerRoles.length === request.ownerRoles.length && target.ownerRoles.every((role, index) => request.ownerRoles[index] === role);
}
