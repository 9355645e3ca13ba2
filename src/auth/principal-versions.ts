import crypto from "node:crypto";
import type { SharedStore } from "../store/shared-store";

/**
 * Version stamps in the shared store that let each process cache principals safely. Any
 * change to a user (status, roles, a session ended) sets a new random stamp for that user;
 * any change to role definitions sets a new global stamp. A request compares stamps in one
 * round trip; a mismatch reloads from the database. A lost stamp (Redis restarted) is
 * re-created with a fresh value, which also forces a reload: the cache can only ever be
 * invalidated too often, never too rarely.
 */
const USER_KEY = (userId: string) => `uv:${userId}`;
const ROLES_KEY = "rv";
const AGENT_KEY = (agentId: string) => `av:${agentId}`;
const POLICIES_KEY = "pv";
const STAMP_TTL_MS = 7 * 86_400_000;

export interface PrincipalVersions {
  current(userId: string): Promise<{ user: string; roles: string }>;
  bumpUser(userId: string): Promise<void>;
  bumpRoles(): Promise<void>;
  /** The role definitions' stamp alone (for code that needs the role graph, not a user). */
  rolesStamp(): Promise<string>;
  bumpAgent(agentId: string): Promise<void>;
  /**
   * What an agent's policy chain depends on, as one string: every policy (any change bumps
   * one global stamp), the role definitions, the owner (role grants) and the agent. One
   * round trip.
   */
  chainStamp(ownerId: string, agentId: string): Promise<string>;
  /** The agent's and its owner's stamps and the chain stamp, in one round trip. */
  agentStamps(agentId: string, ownerId: string): Promise<{ agent: string; owner: string; chain: string }>;
  bumpPolicies(): Promise<void>;
}

const freshStamp = () => crypto.randomBytes(9).toString("base64url");

export function createPrincipalVersions(store: SharedStore): PrincipalVersions {
  async function agentStamps(agentId: string, ownerId: string) {
    const keys = [POLICIES_KEY, ROLES_KEY, USER_KEY(ownerId), AGENT_KEY(agentId)];
    const stamps = await store.mget(keys);
    const filled = await Promise.all(
      stamps.map((stamp, index) => stamp ?? store.setIfAbsent(keys[index] as string, freshStamp(), STAMP_TTL_MS)),
    );
    return { agent: filled[3] as string, owner: filled[2] as string, chain: filled.join(".") };
  }

  return {
    async current(userId) {
      const [user, roles] = await store.mget([USER_KEY(userId), ROLES_KEY]);
      return {
        user: user ?? (await store.setIfAbsent(USER_KEY(userId), freshStamp(), STAMP_TTL_MS)),
        roles: roles ?? (await store.setIfAbsent(ROLES_KEY, freshStamp(), STAMP_TTL_MS)),
      };
    },
    async bumpUser(userId) {
      await store.set(USER_KEY(userId), freshStamp(), STAMP_TTL_MS);
    },
    async bumpRoles() {
      await store.set(ROLES_KEY, freshStamp(), STAMP_TTL_MS);
    },
    async rolesStamp() {
      const [stamp] = await store.mget([ROLES_KEY]);
      return stamp ?? (await store.setIfAbsent(ROLES_KEY, freshStamp(), STAMP_TTL_MS));
    },
    async bumpAgent(agentId) {
      await store.set(AGENT_KEY(agentId), freshStamp(), STAMP_TTL_MS);
    },
    async chainStamp(ownerId, agentId) {
      return (await agentStamps(agentId, ownerId)).chain;
    },
    agentStamps,
    async bumpPolicies() {
      await store.set(POLICIES_KEY, freshStamp(), STAMP_TTL_MS);
    },
  };
}
