/**
 * Session lifetimes, pure. A session ends at `expiresAt` (absolute, from login) or when no
 * refresh happened for the idle timeout, whichever comes first.
 */
export interface SessionPolicy {
  /** How long a rotated refresh token still yields its successor instead of revoking the session. */
  readonly reuseGraceMs: number;
  absoluteExpiry(createdAt: Date): Date;
  /** The idle deadline after activity at `now`, never past the absolute expiry. */
  idleExpiry(now: Date, createdAt: Date): Date;
  refreshTokenExpiry(session: { idleExpiresAt: Date; expiresAt: Date }): Date;
  /** Why a session can no longer be used at `now`, or undefined while it can. */
  endedReason(session: { revokedAt: Date | null; idleExpiresAt: Date; expiresAt: Date }, now: Date): string | undefined;
}

export function createSessionPolicy(options: {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
  reuseGraceMs: number;
}): SessionPolicy {
  const absoluteExpiry = (createdAt: Date) => new Date(createdAt.getTime() + options.absoluteLifetimeMs);
  return {
    reuseGraceMs: options.reuseGraceMs,
    absoluteExpiry,
    idleExpiry(now, createdAt) {
      return new Date(Math.min(now.getTime() + options.idleTimeoutMs, absoluteExpiry(createdAt).getTime()));
    },
    refreshTokenExpiry(session) {
      return new Date(Math.min(session.idleExpiresAt.getTime(), session.expiresAt.getTime()));
    },
    endedReason(session, now) {
      if (session.revokedAt) return "revoked";
      if (session.expiresAt.getTime() <= now.getTime()) return "expired";
      if (session.idleExpiresAt.getTime() <= now.getTime()) return "idle_timeout";
      return undefined;
    },
  };
}
