/**
 * Which spend caps apply (the policy model in README), shared by `evaluate` and
 * `effectivePolicy`.
 *
 * Caps are grouped by (per, window). In each group the caps of the most specific scope that
 * has one apply (all of them, if several policies of that scope have one: they must all have
 * room, so the tightest binds), and so does every locked cap of a broader scope; the other
 * caps of broader scopes are overridden. A cap never replaces a cap of another (per, window):
 * an AGENT-scope DAY cap does not lift a GLOBAL-scope HOUR cap. A restriction layer's caps
 * (rule 4) replace nothing and are replaced by nothing: they apply in addition.
 */
import { compareStrings } from "./rule-resolution";
import {
  CAP_COUNTERS,
  CAP_WINDOWS,
  scopeRank,
  type CapCounter,
  type CapWindow,
  type Money,
  policyPart,
  type Policy,
  type PolicyPart,
  type PolicyScope,
  type SpendCap,
} from "./policy-types";

/** A cap together with the policy version it came from. */
export interface CapRef extends PolicyPart {
  capId: string;
  per: CapCounter;
  window: CapWindow;
  limit: Money;
  locked: boolean;
  /** Only present when the cap has one, so decisions recorded before keep their digest. */
  overrunAllowance?: Money;
}

export interface CapResolution {
  per: CapCounter;
  window: CapWindow;
  /** The most specific scope of the chain with a cap for this (per, window) (else the layer's). */
  decidingScope: PolicyScope;
  /** Caps that must all have room: the deciding scope's, the locked broader ones, the layers'. */
  applied: CapRef[];
  /** Broader, unlocked caps replaced by the deciding scope's caps. */
  overridden: CapRef[];
}

export function capRef(policy: Policy, cap: SpendCap): CapRef {
  return {
    ...policyPart(policy),
    capId: cap.id,
    per: cap.per,
    window: cap.window,
    limit: cap.limit,
    locked: cap.locked,
    ...(cap.overrunAllowance === undefined ? {} : { overrunAllowance: cap.overrunAllowance }),
  };
}

/** Broadest scope first, then identity, then content: a total order. */
function compareCaps(a: CapRef, b: CapRef): number {
  return (
    scopeRank(a.scope) - scopeRank(b.scope) ||
    compareStrings(a.policyId, b.policyId) ||
    a.policyVersion - b.policyVersion ||
    compareStrings(a.capId, b.capId) ||
    (a.limit < b.limit ? -1 : a.limit > b.limit ? 1 : 0) ||
    Number(b.locked) - Number(a.locked)
  );
}

/**
 * One entry per (per, window) that has at least one cap, in the fixed order of
 * CAP_COUNTERS x CAP_WINDOWS. Independent of the order of `policies` and of their caps.
 * RESTRICTION policies are layers (resolveLayeredCaps): their caps add to the chain's.
 */
export function resolveCaps(policies: readonly Policy[]): CapResolution[] {
  return resolveLayeredCaps(
    policies.filter((policy) => policy.authority !== "RESTRICTION"),
    policies.filter((policy) => policy.authority === "RESTRICTION"),
  );
}

/**
 * Rule 3 over the OVERRIDE policies `overrides`, and then every cap of every restriction
 * layer in addition (the policy model in README): a layer's cap never replaces a cap of
 * the chain, and no cap of the chain replaces it. Such caps come last in `applied`.
 */
export function resolveLayeredCaps(overrides: readonly Policy[], layers: readonly Policy[]): CapResolution[] {
  const chainCaps = overrides.flatMap((policy) => policy.caps.map((cap) => capRef(policy, cap)));
  const layerCaps = layers.flatMap((policy) => policy.caps.map((cap) => capRef(policy, cap)));
  const result: CapResolution[] = [];
  if (chainCaps.length === 0 && layerCaps.length === 0) return result;
  for (const per of CAP_COUNTERS) {
    for (const window of CAP_WINDOWS) {
      const caps = chainCaps.filter((cap) => cap.per === per && cap.window === window).sort(compareCaps);
      const added = layerCaps.filter((cap) => cap.per === per && cap.window === window).sort(compareCaps);
      const narrowest = caps[caps.length - 1];
      if (narrowest === undefined) {
        const first = added[0];
        if (first !== undefined) result.push({ per, window, decidingScope: first.scope, applied: added, overridden: [] });
        continue;
      }
      const top = scopeRank(narrowest.scope);
      const applies = (cap: CapRef) => scopeRank(cap.scope) === top || cap.locked;
      result.push({
        per,
        window,
        decidingScope: narrowest.scope,
        applied: [...caps.filter(applies), ...added],
        overridden: caps.filter((cap) => !applies(cap)),
      });
    }
  }
  return result;
}
