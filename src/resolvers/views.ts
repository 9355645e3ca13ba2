import type { AuthResult } from "../auth/auth.service";
import type { Principal } from "../auth/principal";
import type { SessionRecord } from "../auth/session.service";
import type { RefreshCookieJar } from "../http/refresh-cookie";
import type { SessionRestriction } from "../schema/account-security.types";
import { RefreshCookieProblem, TokenDelivery, type AuthPayload } from "../schema/auth-payload.type";
import type { Session } from "../schema/session.type";
import type { User, UserStatus } from "../schema/user.type";
import type { UserRow } from "../users/user.repository";

/** Row-to-GraphQL mapping: the only place that decides which columns become fields. */
export function toUserView(row: UserRow, roles: readonly string[]): User {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    displayName: row.displayName,
    status: row.status as UserStatus,
    emailVerified: row.emailVerifiedAt !== null,
    roles: [...roles],
    mfaEnabled: row.mfaEnabled,
    lockedUntil: row.lockedUntil,
    createdAt: row.createdAt,
    lastLoginAt: row.lastLoginAt,
  };
}

export function toSessionView(row: SessionRecord, currentSessionId: string): Session {
  return {
    id: row.id,
    userId: row.userId,
    ip: row.ip,
    userAgent: row.userAgent,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    idleExpiresAt: row.idleExpiresAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    revokedReason: row.revokedReason,
    current: row.id === currentSessionId,
    active: row.active,
  };
}

export function principalOf(result: AuthResult): Principal {
  return {
    kind: "user",
    userId: result.user.id,
    sessionId: result.sessionId,
    roles: result.roles,
    permissions: result.permissions,
    restriction: result.restriction,
    user: result.user,
  };
}

/** Hands the refresh token over as the client asked: in the payload, or as an httpOnly cookie. */
export function toAuthPayload(result: AuthResult, delivery: TokenDelivery, cookie: RefreshCookieJar): AuthPayload {
  const cookieWarning = delivery === TokenDelivery.COOKIE ? cookie.set(result.refreshToken, result.refreshTokenExpiresAt) : null;
  return {
    accessToken: result.accessToken,
    accessTokenExpiresAt: result.accessTokenExpiresAt,
    refreshToken: delivery === TokenDelivery.COOKIE ? null : result.refreshToken,
    refreshTokenExpiresAt: result.refreshTokenExpiresAt,
    sessionId: result.sessionId,
    restriction: result.restriction as SessionRestriction | null,
    user: toUserView(result.user, result.roles),
    refreshCookieWarning: cookieWarning && { problem: RefreshCookieProblem[cookieWarning.problem], message: cookieWarning.message },
  };
}
