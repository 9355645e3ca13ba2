import type { Observe } from "../http/metrics";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { accountLocked, newSignIn } from "../email/email-templates";
import type { Notifier } from "../email/notifier";
import { AuthenticationError, NotFoundError, RateLimitedError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import type { SharedStore } from "../store/shared-store";
import { assertMayActOn } from "../users/authority";
import { findUserByEmail, findUserByUsername, lockUser, updateUser, type UserRow } from "../users/user.repository";
import { assertUuid } from "../validation/ids";
import { classifyIdentifier, identifierFingerprint } from "./identity-rules";
import { afterFailure, isLocked, type LockoutPolicy } from "./lockout";
import { enqueueWebhookEvents } from "../webhooks/webhook-events";
import { userLocked } from "../webhooks/webhook-payloads";
import type { MfaService } from "./mfa.service";
import { consumeOneTimeToken, issueOneTimeToken } from "./one-time-tokens";
import type { PasswordService } from "./password.service";
import type { PasswordHasher } from "./passwords";
import type { Principal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import { seenBefore } from "./session.repository";
import type { AuthResult, SessionIssuer, SessionRestriction } from "./session-issuer";

export interface MfaChallengeResult {
  challengeToken: string;
  expiresAt: Date;
}

export interface LoginService {
  login(input: { identifier: string; password: string }, meta: RequestMeta): Promise<AuthResult | MfaChallengeResult>;
  completeMfa(input: { challengeToken: string; code?: string | null; recoveryCode?: string | null }, meta: RequestMeta): Promise<AuthResult>;
  /** Lifts a lockout; the caller must have authority over the account (see users/authority). */
  unlock(actor: Principal, userId: string, meta: RequestMeta): Promise<void>;
}

const INVALID_CREDENTIALS = "Invalid email, username or password";
const IP_BLOCK_KEY = (ip: string) => `login-ip-block:${ip}`;

/**
 * Sign-in: password (same answer and same bcrypt cost whether or not the account exists),
 * lockout after repeated failures, throttling of an ip that fails across accounts, the MFA
 * second step, session restrictions, and a notice when a new device or ip signs in.
 */
export function createLoginService(deps: {
  /** Counts lockouts (metrics). */
  observe?: Observe;
  db: Db;
  store: SharedStore;
  hasher: PasswordHasher;
  issuer: SessionIssuer;
  passwords: PasswordService;
  mfa: MfaService;
  notifier: Notifier;
  versions: PrincipalVersions;
  clock: Clock;
  lockout: LockoutPolicy;
  ipFailures: { limit: number; windowMs: number };
  mfaChallengeTtlMs: number;
  requireVerifiedEmail: boolean;
  newSignInNotice: boolean;
  /** Keys the fingerprint of failed identifiers in the audit trail (see identifierFingerprint); follows the signing key. */
  identifierKey: () => Buffer;
}): LoginService {
  const { db, store, hasher, issuer, notifier, clock } = deps;

  async function findByIdentifier(identifier: string) {
    const classified = classifyIdentifier(identifier);
    if (!classified) return undefined;
    return classified.kind === "email" ? findUserByEmail(db, classified.value) : findUserByUsername(db, classified.value);
  }

  async function assertIpNotThrottled(meta: RequestMeta) {
    if (!meta.ip) return;
    const [until] = await store.mget([IP_BLOCK_KEY(meta.ip)]);
    const remainingMs = until ? Number(until) - clock.now().getTime() : 0;
    if (remainingMs > 0) throw new RateLimitedError(Math.ceil(remainingMs / 1000));
  }

  /** Counts a failure against the ip; past the limit the ip is refused for the rest of the window. */
  async function recordIpFailure(meta: RequestMeta) {
    if (!meta.ip) return;
    const hit = await store.hit(`login-ip-failures:${meta.ip}`, deps.ipFailures.windowMs, deps.ipFailures.limit);
    // Blocked from the failure that reaches the limit on (count includes this failure).
    if (hit.allowed && hit.count < deps.ipFailures.limit) return;
    const blockMs = hit.allowed ? deps.ipFailures.windowMs : Math.max(hit.retryAfterMs, 1);
    await store.set(IP_BLOCK_KEY(meta.ip), String(clock.now().getTime() + blockMs), blockMs);
    await recordAudit(db, meta, {
      actor: { type: "anonymous" },
      action: AuditAction.IP_THROTTLED,
      outcome: "denied",
      details: { ip: meta.ip, blockMs },
    });
  }

  async function fail(meta: RequestMeta, identifier: string, user: UserRow | undefined, reason: string): Promise<never> {
    let lockedUntil: Date | null = null;
    await db.transaction(async (tx) => {
      if (user && reason === "bad_password") {
        const current = await lockUser(tx, user.id);
        if (current) {
          const next = afterFailure(current, deps.lockout, clock.now());
          await updateUser(tx, user.id, {
            failedLoginCount: next.failedLoginCount,
            lockoutLevel: next.lockoutLevel,
            lockedUntil: next.lockedUntil,
          });
          if (next.locked) {
            lockedUntil = next.lockedUntil;
            await enqueueWebhookEvents(tx, [userLocked(user.id, next.lockedUntil, next.lockoutLevel, clock.now())]);
            await recordAudit(tx, meta, {
              actor: { type: "system" },
              action: AuditAction.ACCOUNT_LOCKED,
              outcome: "success",
              target: { type: "user", id: user.id },
              details: { until: next.lockedUntil?.toISOString(), level: next.lockoutLevel },
            });
          }
        }
      }
      await recordAudit(tx, meta, {
        actor: { type: "anonymous" },
        action: AuditAction.LOGIN_FAILED,
        outcome: "failure",
        target: user ? { type: "user", id: user.id } : undefined,
        details: { identifier: identifierFingerprint(identifier, deps.identifierKey()), reason },
      });
    });
    await recordIpFailure(meta);
    if (user && lockedUntil) {
      deps.observe?.("account_locked");
      await notifier.send(accountLocked({ to: user.email, until: lockedUntil }), { userId: user.id, meta });
    }
    throw new AuthenticationError(reason === "disabled" ? "This account is disabled" : INVALID_CREDENTIALS);
  }

  /** What the new session may do, given the account's state. */
  async function restrictionFor(user: UserRow, now: Date): Promise<SessionRestriction | null> {
    if (deps.requireVerifiedEmail && !user.emailVerifiedAt) return "email_verification";
    if (deps.passwords.isExpired(user, now)) return "password_change";
    if (!user.mfaEnabled && deps.mfa.requiredFor((await issuer.rolesOf(user.id)).roles)) return "mfa_enrollment";
    return null;
  }

  async function openSession(user: UserRow, meta: RequestMeta, secondFactor?: string): Promise<AuthResult> {
    const now = clock.now();
    const restriction = await restrictionFor(user, now);
    const { grant, isNew } = await db.transaction(async (tx) => {
      const opened = await issuer.start(tx, user, meta, now, restriction);
      await updateUser(tx, user.id, { lastLoginAt: now, failedLoginCount: 0, lockoutLevel: 0, lockedUntil: null });
      const seen = await seenBefore(tx, user.id, opened.session.id, meta.ip, meta.userAgent);
      await recordAudit(tx, meta, {
        actor: { type: "user", id: user.id },
        action: AuditAction.LOGIN_SUCCEEDED,
        outcome: "success",
        target: { type: "session", id: opened.session.id },
        details: { secondFactor: secondFactor ?? null, restriction, newIp: !seen.ip, newDevice: !seen.userAgent },
      });
      return { grant: { ...opened, user: { ...user, lastLoginAt: now } }, isNew: !seen.ip || !seen.userAgent };
    });
    if (isNew && deps.newSignInNotice) {
      await notifier.send(newSignIn({ to: user.email, at: now, ip: meta.ip, userAgent: meta.userAgent }), { userId: user.id, meta });
    }
    return issuer.complete(grant);
  }

  return {
    async login(input, meta) {
      await assertIpNotThrottled(meta);
      const user = await findByIdentifier(input.identifier);
      const passwordOk = await hasher.verify(input.password, user?.passwordHash ?? null);
      if (!user) return fail(meta, input.identifier, undefined, "unknown_identifier");
      if (isLocked(user, clock.now())) return fail(meta, input.identifier, user, "locked");
      if (!passwordOk) return fail(meta, input.identifier, user, "bad_password");
      if (user.status === "disabled") return fail(meta, input.identifier, user, "disabled");
      if (!user.mfaEnabled) return openSession(user, meta);

      const challenge = await db.transaction(async (tx) => {
        const issued = await issueOneTimeToken(tx, {
          userId: user.id,
          purpose: "mfa_challenge",
          now: clock.now(),
          ttlMs: deps.mfaChallengeTtlMs,
          replaceOlder: false,
        });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.MFA_CHALLENGE_ISSUED,
          outcome: "success",
          target: { type: "user", id: user.id },
        });
        return issued;
      });
      return { challengeToken: challenge.token, expiresAt: challenge.expiresAt };
    },

    async completeMfa(input, meta) {
      const verified = await db.transaction(async (tx) => {
        const now = clock.now();
        const peek = await consumeOneTimeToken(tx, input.challengeToken, "mfa_challenge", now, { markUsed: false });
        if (!peek.ok) return { ok: false as const, userId: undefined };
        const user = await lockUser(tx, peek.row.userId);
        if (!user || user.status === "disabled" || !user.mfaEnabled) return { ok: false as const, userId: peek.row.userId };
        const method = await deps.mfa.verifySecondFactor(tx, user, input);
        if (!method) return { ok: false as const, userId: user.id };
        await consumeOneTimeToken(tx, input.challengeToken, "mfa_challenge", now);
        if (method === "recovery_code") {
          await recordAudit(tx, meta, {
            actor: { type: "user", id: user.id },
            action: AuditAction.MFA_RECOVERY_CODE_USED,
            outcome: "success",
            target: { type: "user", id: user.id },
          });
        }
        return { ok: true as const, user, method };
      });
      if (!verified.ok) {
        await recordAudit(db, meta, {
          actor: { type: "anonymous" },
          action: AuditAction.MFA_CHALLENGE_FAILED,
          outcome: "failure",
          target: verified.userId ? { type: "user", id: verified.userId } : undefined,
        });
        throw new AuthenticationError("The code or challenge is not valid");
      }
      return openSession(verified.user, meta, verified.method);
    },

    async unlock(actor, userId, meta) {
      assertUuid(userId, "userId", "userId is not a valid id");
      await db.transaction(async (tx) => {
        if (!(await lockUser(tx, userId))) throw new NotFoundError("No such user");
        await assertMayActOn(tx, actor, userId);
        await updateUser(tx, userId, { failedLoginCount: 0, lockoutLevel: 0, lockedUntil: null, updatedAt: clock.now() });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: actor.userId },
          action: AuditAction.ACCOUNT_UNLOCKED,
          outcome: "success",
          target: { type: "user", id: userId },
        });
      });
      await deps.versions.bumpUser(userId);
    },
  };
}
