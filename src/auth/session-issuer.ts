import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/database";
import type { RequestMeta } from "../request-meta";
import { grantedRoleNames, type UserRow } from "../users/user.repository";
import type { AccessTokenService } from "./access-tokens";
import { formatOpaqueToken, generateOpaqueToken, hashSecret } from "./opaque-tokens";
import type { PrincipalVersions } from "./principal-versions";
import type { RoleCatalog } from "./role-catalog";
import { resolveRoles, type ResolvedRoles } from "./role-graph";
import type { SessionPolicy } from "./session-policy";
import { insertRefreshToken, insertSession, type SessionRow } from "./session.repository";
import { currentRestriction, restrictionName, type SessionRestriction } from "./session-restriction";

export type { SessionRestriction } from "./session-restriction";

/** A session opened or continued inside a transaction, before its access token is minted. */
export interface SessionGrant {
  user: UserRow;
  session: SessionRow;
  refreshToken: string;
}

/** What a successful register, login or refresh hands back to the client. */
export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  sessionId: string;
  restriction: SessionRestriction | null;
  user: UserRow;
  roles: string[];
  permissions: Set<string>;
}

export interface SessionIssuer {
  /** Opens a session with its first refresh token, inside the caller's transaction. */
  start(tx: DbOrTx, user: UserRow, meta: RequestMeta, now: Date, restriction?: SessionRestriction | null): Promise<SessionGrant>;
  /**
   * Mints the access token for a session after its transaction committed; the token never
   * outlives the session's idle or absolute expiry.
   */
  complete(grant: SessionGrant): Promise<AuthResult>;
  rolesOf(userId: string): Promise<ResolvedRoles>;
}

export function createSessionIssuer(deps: {
  db: Db;
  accessTokens: AccessTokenService;
  versions: PrincipalVersions;
  roleCatalog: RoleCatalog;
  sessionPolicy: SessionPolicy;
  clock: Clock;
  mfaRequiredRoles: readonly string[];
}): SessionIssuer {
  const { db, accessTokens, versions, roleCatalog, sessionPolicy } = deps;

  async function rolesOf(userId: string) {
    const [granted, stamps] = await Promise.all([grantedRoleNames(db, userId), versions.current(userId)]);
    return resolveRoles(["USER", ...granted], await roleCatalog.graph(stamps.roles));
  }

  return {
    rolesOf,
    async start(tx, user, meta, now, restriction = null) {
      const session = await insertSession(tx, {
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        now,
        idleExpiresAt: sessionPolicy.idleExpiry(now, now),
        expiresAt: sessionPolicy.absoluteExpiry(now),
        restriction,
      });
      const token = generateOpaqueToken();
      await insertRefreshToken(tx, { id: token.id, sessionId: session.id, secretHash: hashSecret(token.secret), now });
      return { user, session, refreshToken: formatOpaqueToken(token) };
    },
    async complete({ user, session, refreshToken }) {
      const { roles, permissions } = await rolesOf(user.id);
      const restriction = currentRestriction(session.restriction, user, roles, deps.mfaRequiredRoles);
      const refreshTokenExpiresAt = sessionPolicy.refreshTokenExpiry(session);
      const access = accessTokens.issue({
        userId: user.id,
        sessionId: session.id,
        roles,
        restriction: restriction && restrictionName(restriction),
        notAfter: refreshTokenExpiresAt,
      });
      return {
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        refreshToken,
        refreshTokenExpiresAt,
        sessionId: session.id,
        restriction,
        user,
        roles,
        permissions,
      };
    },
  };
}
