import type { PrincipalVersions } from "../auth/principal-versions";
import { prepareChain, type PreparedChain } from "../policy/policy-chain";
import type { Policy } from "../policy/policy-types";
import type { PolicyService } from "../policies/policy.service";

export interface AgentChain {
  chain: Policy[];
  ownerRoles: string[];
  /**
   * The chain selected, sorted and split into the override chain and its restriction layers
   * once, when it is loaded: each decision on it then only resolves (evaluator.ts).
   */
  prepared: PreparedChain;
}

export interface ChainCache {
  /** The agent's current chain: from this process's cache when no stamp it depends on moved. */
  get(agent: { id: string; ownerId: string; chainStamp?: string }): Promise<AgentChain>;
}

const MAX_ENTRIES = 10_000;
/** Even with unchanged stamps an entry is reloaded after this long (a lost bump heals). */
const MAX_AGE_MS = 60_000;

/**
 * Agents' policy chains, cached per process. An entry is valid while the stamp it was loaded
 * under (policies, role definitions, the owner, the agent: `chainStamp`, one round trip) is
 * unchanged. Every policy write bumps the policies stamp after its commit and role, grant and
 * agent changes bump theirs, so the next action on any process reloads. The stamp is read
 * before the chain is loaded: a change that commits in between leaves the entry under a
 * stamp that is already stale, so it can only be reloaded too often, never too rarely. An
 * entry also expires after a minute, so a bump lost to a Redis failure after a commit
 * delays a change by a minute at most.
 */
export function createChainCache(deps: { versions: PrincipalVersions; policies: Pick<PolicyService, "agentChain"> }): ChainCache {
  const entries = new Map<string, { stamp: string; loadedAt: number; value: AgentChain }>();
  return {
    async get(agent) {
      // An agent's request brings the stamp read at authentication; others read it now.
      const stamp = agent.chainStamp ?? (await deps.versions.chainStamp(agent.ownerId, agent.id));
      const cached = entries.get(agent.id);
      if (cached && cached.stamp === stamp && Date.now() - cached.loadedAt < MAX_AGE_MS) return cached.value;
      const loaded = await deps.policies.agentChain(agent);
      const value = { ...loaded, prepared: prepareChain(loaded.chain, { agentId: agent.id, ownerId: agent.ownerId, ownerRoles: loaded.ownerRoles }) };
      entries.delete(agent.id);
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      entries.set(agent.id, { stamp, loadedAt: Date.now(), value });
      return value;
    },
  };
}
