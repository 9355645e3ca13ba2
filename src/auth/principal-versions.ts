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

/** Retries of a failed bump: first after this long, doubling up to the cap, until this age. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;
/** Past this, every process's cached principal has aged out anyway (principal-resolver). */
const RETRY_FOR_MS = 120_000;

export function createPrincipalVersions(store: SharedStore): PrincipalVersions {
  /** Keys whose bump failed and is being retried (one retry loop per key). */
  const retrying = new Set<string>();

  function retryLater(key: string): void {
    if (retrying.has(key)) return;
    retrying.add(key);
    const started = Date.now();
    const attempt = (delayMs: number) => {
      const timer = setTimeout(() => {
        store.set(key, freshStamp(), STAMP_TTL_MS).then(
          () => retrying.delete(key),
          () => {
            if (Date.now() - started >= RETRY_FOR_MS) retrying.delete(key);
            else attempt(Math.min(delayMs * 2, RETRY_MAX_MS));
          },
        );
      }, delayMs);
      timer.unref();
    };
    attempt(RETRY_FIRST_MS);
  }

  /**
   * A new stamp for `key`. The change it announces has already committed, so a failure is
   * both reported (the caller answers SERVICE_UNAVAILABLE) and retried in the background
   * until the stamp lands: otherwise a store that comes back with its old stamps would let
   * other processes go on serving a cached principal the change ended.
   */
  async function bump(key: string): Promise<void> {
    try {
      await store.set(key, freshStamp(), STAMP_TTL_MS);
    } catch (error) {
      retryLater(key);
      throw error;
    }
  }

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
    bumpUser(userId) {
      return bump(USER_KEY(userId));
    },
    bumpRoles() {
      return bump(ROLES_KEY);
    },
    async rolesStamp() {
      const [stamp] = await store.mget([ROLES_KEY]);
      return stamp ?? (await store.setIfAbsent(ROLES_KEY, freshStamp(), STAMP_TTL_MS));
    },
    bumpAgent(agentId) {
      return bump(AGENT_KEY(agentId));
    },
    async chainStamp(ownerId, agentId) {
      return (await agentStamps(agentId, ownerId)).chain;
    },
    agentStamps,
    bumpPolicies() {
      return bump(POLICIES_KEY);
    },
  };
}
