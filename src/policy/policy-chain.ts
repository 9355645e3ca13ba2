/**
 * Selecting and ordering the policies of a chain. The loader already selects by scope; the
 * evaluator checks again and sorts itself, so neither a stray policy nor the input order can
 * change a decision.
 */
import type { PolicyRef } from "./decision-types";
import { scopeRank, type ActionRequest, type Policy } from "./policy-types";
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
  const { id, version, name, scope, scopeId, mode } = policy;
  return { id, version, name, scope, scopeId, mode };
}
