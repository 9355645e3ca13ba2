import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { AuthenticationError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { findUserById } from "../users/user.repository";
import type { AuthResult, SessionGrant } from "./session-issuer";
import { deriveSuccessor, formatOpaqueToken, hashSecret, parseOpaqueToken, secretMatches, type OpaqueToken } from "./opaque-tokens";
import type { PrincipalVersions } from "./principal-versions";
import type { SessionPolicy } from "./session-policy";
import type { SigningKeys } from "./signing-keys";
import { enqueueWebhookEvents } from "../webhooks/webhook-events";
import { refreshTokenReuseDetected } from "../webhooks/webhook-payloads";
import {
  findRefreshToken,
  insertRefreshToken,
  lockRefreshToken,
  markRotated,
  revokeSession,
  touchSession,
} from "./session.repository";

export interface RefreshService {
  refresh(refreshToken: string, meta: RequestMeta): Promise<AuthResult>;
}

/** How far down a chain a token presented in its grace window may walk to the current one. */
const MAX_CHAIN_WALK = 8;

type Outcome =
  | { kind: "ok"; grant: SessionGrant }
  | { kind: "refused"; message: string; revokedUserId?: string };

/**
 * Refresh-token rotation with a grace window and theft detection:
 * - the current token is rotated: it is marked used and its successor becomes current;
 * - a rotated token presented again within the grace window (two tabs refreshing at once, a
 *   retried request) gets the same successor, derived, not stored, so both callers agree;
 * - a rotated token presented after the window means two parties hold the chain: the whole
 *   session is revoked.
 * The token row is locked for the transaction, so concurrent refreshes take turns.
 * A successor is derived with the chain key of the key that signs now; the walk tries every
 * held key's, so a token rotated just before a signing-key switch is still followed after it.
 */
export function createRefreshService(deps: {
  db: Db;
  keys: SigningKeys;
  sessionPolicy: SessionPolicy;
  clock: Clock;
  versions: PrincipalVersions;
  complete: (grant: SessionGrant) => Promise<AuthResult>;
}): RefreshService {
  const { db, keys, sessionPolicy, clock, versions, complete } = deps;
  async function audit(tx: Tx, meta: RequestMeta, action: AuditAction, userId: string | undefined, sessionId: string | undefined, details: Record<string, unknown>) {
    await recordAudit(tx, meta, {
      actor: userId ? { type: "user", id: userId } : { type: "anonymous" },
      action,
      outcome: action === AuditAction.TOKEN_REFRESHED ? "success" : "failure",
      target: sessionId ? { type: "session", id: sessionId } : undefined,
      details,
    });
  }

  /** The successor of `parent` that was stored, whichever held key derived it (the signer's first). */
  async function storedSuccessor(tx: Tx, parent: OpaqueToken, now: Date): Promise<{ token: OpaqueToken; rotated: boolean } | undefined> {
    const signer = keys.signerAt(now);
    for (const key of [signer, ...keys.all.filter((other) => other !== signer)]) {
      const candidate = deriveSuccessor(key.chainKey, parent);
      const row = await findRefreshToken(tx, candidate.id);
      if (row) return { token: candidate, rotated: row.rotatedAt !== null };
    }
    return undefined;
  }

  /** Follows derived successors from a rotated token to the chain's current token. */
  async function currentDescendant(tx: Tx, token: OpaqueToken, now: Date): Promise<OpaqueToken | undefined> {
    let parent = token;
    for (let step = 0; step < MAX_CHAIN_WALK; step += 1) {
      const successor = await storedSuccessor(tx, parent, now);
      if (!successor) return undefined;
      if (!successor.rotated) return successor.token;
      parent = successor.token;
    }
    return undefined;
  }

  async function attempt(tx: Tx, raw: string, meta: RequestMeta): Promise<Outcome> {
    const refused = (message = "Invalid refresh token"): Outcome => ({ kind: "refused", message });
    const token = parseOpaqueToken(raw);
    if (!token) return refused();
    const locked = await lockRefreshToken(tx, token.id);
    if (!locked || !secretMatches(token.secret, locked.token.secretHash)) {
      await audit(tx, meta, AuditAction.REFRESH_FAILED, locked?.session.userId, locked?.session.id, { reason: "unknown_token" });
      return refused();
    }
    const { session } = locked;
    const now = clock.now();
    const ended = sessionPolicy.endedReason(session, now);
    if (ended) {
      await audit(tx, meta, AuditAction.REFRESH_FAILED, session.userId, session.id, { reason: `session_${ended}` });
      return refused("Session has ended; log in again");
    }
    const user = await findUserById(tx, session.userId);
    if (!user || user.status === "disabled") {
      await audit(tx, meta, AuditAction.REFRESH_FAILED, session.userId, session.id, { reason: "account_unavailable" });
      return refused("Session has ended; log in again");
    }

    let next: OpaqueToken | undefined;
    let graceReuse = false;
    if (!locked.token.rotatedAt) {
      next = deriveSuccessor(keys.signerAt(now).chainKey, token);
      await markRotated(tx, token.id, now);
      await insertRefreshToken(tx, { id: next.id, sessionId: session.id, secretHash: hashSecret(next.secret), now });
    } else if (now.getTime() - locked.token.rotatedAt.getTime() <= sessionPolicy.reuseGraceMs) {
      next = await currentDescendant(tx, token, now);
      graceReuse = true;
    }
    if (!next) {
      await revokeSession(tx, session.id, "refresh_token_reuse", now);
      await enqueueWebhookEvents(tx, [refreshTokenReuseDetected(session.userId, session.id, now)]);
      await audit(tx, meta, AuditAction.REFRESH_REUSE_DETECTED, session.userId, session.id, {
        tokenId: token.id,
        rotatedAt: locked.token.rotatedAt?.toISOString(),
      });
      return { kind: "refused", message: "Refresh token was already used; the session has been revoked", revokedUserId: session.userId };
    }

    const idleExpiresAt = sessionPolicy.idleExpiry(now, session.createdAt);
    await touchSession(tx, session.id, now, idleExpiresAt);
    await audit(tx, meta, AuditAction.TOKEN_REFRESHED, session.userId, session.id, { graceReuse });
    const grant = { user, session: { ...session, lastUsedAt: now, idleExpiresAt }, refreshToken: formatOpaqueToken(next) };
    return { kind: "ok", grant };
  }

  return {
    async refresh(raw, meta) {
      const outcome = await db.transaction((tx) => attempt(tx, raw, meta));
      if (outcome.kind === "ok") return complete(outcome.grant);
      if (outcome.revokedUserId) await versions.bumpUser(outcome.revokedUserId);
      throw new AuthenticationError(outcome.message);
    },
  };
}
