import type { AgentPrincipal } from "../auth/principal";
import type { PrincipalVersions } from "../auth/principal-versions";
import { secretMatches } from "../auth/opaque-tokens";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { Logger } from "../logging/logger";
import { findUserById } from "../users/user.repository";
import { parseAgentKey } from "./agent-keys";
import { findAgent, findAgentKey, touchAgentKey } from "./agent.repository";

export type AgentResolution = { ok: true; principal: AgentPrincipal } | { ok: false; reason: "invalid" | "revoked" | "expired" };

export interface AgentPrincipalResolver {
  resolve(bearer: string): Promise<AgentResolution>;
}

interface CacheEntry {
  agentStamp: string;
  ownerStamp: string;
  cachedAt: number;
  secretHash: string;
  expiresAt: Date | null;
  principal: AgentPrincipal;
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 20_000;
const TOUCH_EVERY_MS = 60_000;

/**
 * Agent API keys to principals. Like user principals, each process caches what it loaded and
 * checks version stamps per request, in one round trip (the agent's and its owner's, with
 * the policy chain's stamp read alongside for the action path): revoking a key,
 * suspending or deleting an agent, or disabling its owner bumps a stamp before answering,
 * so the next request on any process reloads and refuses. `lastUsedAt` is written at most
 * once a minute per key, off the request path.
 */
export function createAgentPrincipalResolver(deps: {
  db: Db;
  versions: PrincipalVersions;
  clock: Clock;
  logger: Logger;
}): AgentPrincipalResolver {
  const { db, versions, clock } = deps;
  const cache = new Map<string, CacheEntry>();
  const touched = new Map<string, number>();

  async function load(keyId: string): Promise<Omit<CacheEntry, "agentStamp" | "ownerStamp" | "cachedAt"> | undefined> {
    const key = await findAgentKey(db, keyId);
    if (!key || key.revokedAt) return undefined;
    const agent = await findAgent(db, key.agentId);
    if (!agent || agent.status !== "active") return undefined;
    const owner = await findUserById(db, agent.ownerId);
    if (!owner || owner.status === "disabled") return undefined;
    return {
      secretHash: key.secretHash,
      expiresAt: key.expiresAt,
      principal: { kind: "agent", agentId: agent.id, ownerId: agent.ownerId, keyId: key.id, agent },
    };
  }

  function touch(keyId: string, now: number) {
    if (now - (touched.get(keyId) ?? 0) < TOUCH_EVERY_MS) return;
    touched.set(keyId, now);
    touchAgentKey(db, keyId, new Date(now)).catch((error: unknown) => deps.logger.warn({ err: error }, "could not record key use"));
  }

  return {
    async resolve(bearer) {
      const token = parseAgentKey(bearer);
      if (!token) return { ok: false, reason: "invalid" };
      const now = clock.now().getTime();
      let entry = cache.get(token.id);
      // One round trip: the agent's and owner's stamps, and the policy chain's (handed on
      // with the principal, so the action path needs no read of its own).
      let stamps = entry ? await versions.agentStamps(entry.principal.agentId, entry.principal.ownerId) : undefined;
      const fresh =
        entry && stamps && entry.agentStamp === stamps.agent && entry.ownerStamp === stamps.owner && now - entry.cachedAt < CACHE_TTL_MS;
      if (!fresh) {
        cache.delete(token.id);
        // Stamps are read before the rows they vouch for: a change that lands in between
        // leaves a newer stamp behind, so the next request reloads.
        const probe = await load(token.id);
        if (!probe) return { ok: false, reason: "revoked" };
        stamps = await versions.agentStamps(probe.principal.agentId, probe.principal.ownerId);
        const loaded = await load(token.id);
        if (!loaded) return { ok: false, reason: "revoked" };
        entry = { ...loaded, agentStamp: stamps.agent, ownerStamp: stamps.owner, cachedAt: now };
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(token.id, entry);
      }
      const live = entry as CacheEntry;
      if (!secretMatches(token.secret, live.secretHash)) return { ok: false, reason: "invalid" };
      if (live.expiresAt && live.expiresAt.getTime() <= now) return { ok: false, reason: "expired" };
      touch(token.id, now);
      return { ok: true, principal: { ...live.principal, chainStamp: (stamps as { chain: string }).chain } };
    },
  };
}
