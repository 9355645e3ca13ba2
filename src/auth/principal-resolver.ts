import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { findUserById, grantedRoleNames } from "../users/user.repository";
import type { AccessTokenService } from "./access-tokens";
import type { UserPrincipal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import type { RoleCatalog } from "./role-catalog";
import { resolveRoles } from "./role-graph";
import { findSessionById } from "./session.repository";
import { currentRestriction } from "./session-restriction";

export type PrincipalResolution =
  | { ok: true; principal: UserPrincipal }
  | { ok: false; reason: "expired" | "invalid" | "revoked" };

export interface PrincipalResolver {
  /** Turns an access token into a live principal, or says why it cannot. */
  resolve(accessToken: string): Promise<PrincipalResolution>;
}

interface CacheEntry {
  userStamp: string;
  rolesStamp: string;
  cachedAt: number;
  principal: UserPrincipal;
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 20_000;

/**
 * Per request: verify the JWT (no I/O), read two version stamps from the shared store (one
 * round trip), and serve the principal from this process's cache when the stamps still
 * match; otherwise reload session, user and roles from the database. A logout on any
 * process changes the user's stamp before it answers, so the very next request anywhere
 * misses the cache and sees the revoked session. Session expiry needs no check here: an
 * access token never outlives its session's idle or absolute expiry (see AuthService).
 */
export function createPrincipalResolver(deps: {
  db: Db;
  accessTokens: AccessTokenService;
  versions: PrincipalVersions;
  roleCatalog: RoleCatalog;
  clock: Clock;
  /** Roles whose holders must use MFA (MFA_REQUIRED_ROLES). */
  mfaRequiredRoles: readonly string[];
}): PrincipalResolver {
  const { db, accessTokens, versions, roleCatalog, clock } = deps;
  const cache = new Map<string, CacheEntry>();

  async function load(userId: string, sessionId: string, stamps: { user: string; roles: string }) {
    const [session, user, granted, graph] = await Promise.all([
      findSessionById(db, sessionId),
      findUserById(db, userId),
      grantedRoleNames(db, userId),
      roleCatalog.graph(stamps.roles),
    ]);
    if (!session || session.userId !== userId || session.revokedAt || !user || user.status === "disabled") {
      return undefined;
    }
    const { roles, permissions } = resolveRoles(["USER", ...granted], graph);
    const principal: UserPrincipal = {
      kind: "user",
      userId,
      sessionId,
      roles,
      permissions,
      restriction: currentRestriction(session.restriction, user, roles, deps.mfaRequiredRoles),
      user,
    };
    return { principal };
  }

  function remember(sessionId: string, entry: CacheEntry): void {
    if (cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(sessionId, entry);
  }

  return {
    async resolve(accessToken) {
      const check = accessTokens.verify(accessToken);
      if (!check.ok) return { ok: false, reason: check.reason };
      const { sub: userId, sid: sessionId } = check.claims;
      const now = clock.now().getTime();
      const stamps = await versions.current(userId);

      let entry = cache.get(sessionId);
      const fresh =
        entry &&
        entry.userStamp === stamps.user &&
        entry.rolesStamp === stamps.roles &&
        now - entry.cachedAt < CACHE_TTL_MS;
      if (!fresh) {
        cache.delete(sessionId);
        const loaded = await load(userId, sessionId, stamps);
        if (!loaded) return { ok: false, reason: "revoked" };
        entry = { userStamp: stamps.user, rolesStamp: stamps.roles, cachedAt: now, ...loaded };
        remember(sessionId, entry);
      }
      return { ok: true, principal: (entry as CacheEntry).principal };
    },
  };
}
