/**
 * Which spend caps apply (the policy model in README), shared by `evaluate` and
 * `effectivePolicy`.
 *
 * Caps are grouped by signature: (per, window), and for velocity or pattern caps also the
 * measure and the pattern (policy-types.ts `signatureOf`). In each group the caps of the most specific scope that
 * has one apply (all of them, if several policies of that scope have one: they must all have
 * room, so the tightest binds), and so does every locked cap of a broader scope; the other
 * caps of broader scopes are overridden. A cap never replaces a cap of another signature:
 * an AGENT-scope DAY cap does not lift a GLOBAL-scope HOUR cap, nor a `payments.*` cap an
 * unscoped one. A restriction layer's caps
 * (rule 4) replace nothing and are replaced by nothing: they apply in addition.
 */
import { compareStrings } from "./rule-resolution";
import {
  CAP_COUNTERS,
  CAP_WINDOWS,
  scopeRank,
  signatureOf,
  type CapCounter,
  type CapSignature,
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
  /** These four likewise only when set (SpendCap). */
  measure?: "ACTIONS";
  pattern?: string;
  soft?: true;
  thresholds?: number[];
}

export interface CapResolution {
  per: CapCounter;
  window: CapWindow;
  measure?: "ACTIONS";
  pattern?: string;
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
    ...(cap.measure === undefined ? {} : { measure: cap.measure }),
    ...(cap.pattern === undefined ? {} : { pattern: cap.pattern }),
    ...(cap.soft === undefined ? {} : { soft: cap.soft }),
    ...(cap.thresholds === undefined ? {} : { thresholds: [...cap.thresholds] }),
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
 * One entry per signature that has at least one cap: (per, window) in the fixed order of
 * CAP_COUNTERS x CAP_WINDOWS, COST before ACTIONS, unscoped before patterns (by pattern).
 * Independent of the order of `policies` and of their caps. RESTRICTION policies are layers
 * (resolveLayeredCaps): their caps add to the chain's.
 */
export function resolveCaps(policies: readonly Policy[]): CapResolution[] {
  return resolveLayeredCaps(
    policies.filter((policy) => policy.authority !== "RESTRICTION"),
    policies.filter((policy) => policy.authority === "RESTRICTION"),
  );
}

/** The fixed order of signatures (resolveCaps). */
function compareSignatures(a: CapSignature, b: CapSignature): number {
  return (
    CAP_COUNTERS.indexOf(a.per) - CAP_COUNTERS.indexOf(b.per) ||
    CAP_WINDOWS.indexOf(a.window) - CAP_WINDOWS.indexOf(b.window) ||
    Number(a.measure === "ACTIONS") - Number(b.measure === "ACTIONS") ||
    Number(a.pattern !== undefined) - Number(b.pattern !== undefined) ||
    compareStrings(a.pattern ?? "", b.pattern ?? "")
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
  const signatures = new Map<string, CapSignature>();
  for (const cap of [...chainCaps, ...layerCaps]) signatures.set(signatureOf(cap), cap);
  for (const signature of [...signatures.values()].sort(compareSignatures)) {
    const same = (cap: CapRef) => signatureOf(cap) === signatureOf(signature);
    const group = {
      per: signature.per,
      window: signature.window,
      ...(signature.measure === undefined ? {} : { measure: signature.measure }),
      ...(signature.pattern === undefined ? {} : { pattern: signature.pattern }),
    };
    const caps = chainCaps.filter(same).sort(compareCaps);
    const added = layerCaps.filter(same).sort(compareCaps);
    const narrowest = caps[caps.length - 1];
    if (narrowest === undefined) {
      const first = added[0];
      if (first !== undefined) result.push({ ...group, decidingScope: first.scope, applied: added, overridden: [] });
      continue;
    }
    const top = scopeRank(narrowest.scope);
    const applies = (cap: CapRef) => scopeRank(cap.scope) === top || cap.locked;
    result.push({ ...group, decidingScope: narrowest.scope, applied: [...caps.filter(applies), ...added], overridden: caps.filter((cap) => !applies(cap)) });
  }
  return result;
}
