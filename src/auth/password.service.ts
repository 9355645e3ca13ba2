import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/database";
import { passwordChanged, passwordReset } from "../email/email-templates";
import type { Notifier } from "../email/notifier";
import { UserInputError } from "../errors/errors";
import type { Logger } from "../logging/logger";
import type { RequestMeta } from "../request-meta";
import { findUserByEmail, findUserById, lockUser, updateUser, type UserRow } from "../users/user.repository";
import { normalizeEmail } from "./identity-rules";
import { mailOneTimeLink } from "./emailed-link";
import { consumeOneTimeToken } from "./one-time-tokens";
import { recentPasswordHashes, rememberPasswordHash } from "./password-history.repository";
import { checkPasswordPolicy, type PasswordPolicy } from "./password-policy";
import type { PasswordHasher } from "./passwords";
import type { Principal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import { liftRestriction, revokeUserSessions } from "./session.repository";

export interface PasswordRules {
  policy: PasswordPolicy;
  /** How many earlier passwords may not be reused (the current one never may). */
  historySize: number;
  /** 0: passwords never expire. */
  maxAgeMs: number;
  resetTtlMs: number;
}

export interface PasswordService {
  /** Answers true at once whether or not the address has an account; the work happens after. */
  requestReset(email: string, meta: RequestMeta): Promise<true>;
  reset(token: string, newPassword: string, meta: RequestMeta): Promise<true>;
  change(principal: Principal, currentPassword: string, newPassword: string, meta: RequestMeta): Promise<true>;
  /** Policy + reuse check + hash, for any flow that sets a password (id "" for a new account). */
  prepare(user: Pick<UserRow, "id" | "email" | "username" | "passwordHash">, password: string, field: string): Promise<string>;
  /** Whether the user's password is older than the maximum age. */
  isExpired(user: UserRow, now: Date): boolean;
  /** Resolves when background work (reset emails) has finished: for tests and shutdown. */
  idle(): Promise<void>;
}

const INVALID_RESET = "This reset link is invalid or has expired";

export function createPasswordService(deps: {
  db: Db;
  hasher: PasswordHasher;
  rules: PasswordRules;
  notifier: Notifier;
  versions: PrincipalVersions;
  clock: Clock;
  logger: Logger;
}): PasswordService {
  const { db, hasher, rules, notifier, versions, clock, logger } = deps;
  const pending = new Set<Promise<void>>();

  async function prepare(user: Pick<UserRow, "id" | "email" | "username" | "passwordHash">, password: string, field: string) {
    checkPasswordPolicy(password, { email: user.email, username: user.username }, rules.policy, field);
    const history = user.id ? await recentPasswordHashes(db, user.id, rules.historySize) : [];
    const earlier = [user.passwordHash, ...history].filter(
      (hash): hash is string => Boolean(hash),
    );
    const reused = await Promise.all(earlier.map((hash) => hasher.verify(password, hash)));
    if (reused.some(Boolean)) {
      throw new UserInputError(`Password must differ from your last ${rules.historySize + 1} passwords`, field);
    }
    return hasher.hash(password);
  }

  /** Replaces the hash, keeping the old one in the history; clears lockout. */
  async function store(tx: DbOrTx, user: UserRow, hash: string, now: Date) {
    if (user.passwordHash) await rememberPasswordHash(tx, user.id, user.passwordHash, now, rules.historySize);
    await updateUser(tx, user.id, {
      passwordHash: hash,
      passwordChangedAt: now,
      updatedAt: now,
      failedLoginCount: 0,
      lockedUntil: null,
      lockoutLevel: 0,
    });
    await liftRestriction(tx, user.id, "password_change");
  }

  async function sendReset(email: string, meta: RequestMeta) {
    const user = await findUserByEmail(db, email);
    if (!user || user.status === "disabled") return;
    await mailOneTimeLink(deps, {
      userId: user.id,
      to: user.email,
      purpose: "password_reset",
      ttlMs: rules.resetTtlMs,
      path: "/reset-password",
      template: passwordReset,
      audit: { actor: { type: "anonymous" }, action: AuditAction.PASSWORD_RESET_REQUESTED },
      meta,
    });
  }

  return {
    prepare,
    isExpired(user, now) {
      if (rules.maxAgeMs <= 0) return false;
      const since = user.passwordChangedAt ?? user.createdAt;
      return since.getTime() + rules.maxAgeMs <= now.getTime();
    },

    async requestReset(rawEmail, meta) {
      const email = normalizeEmail(rawEmail);
      notifier.requireTransport();
      const work = sendReset(email, meta)
        .catch((error: unknown) => logger.error({ err: error, requestId: meta.requestId }, "password reset request failed"))
        .finally(() => pending.delete(work));
      pending.add(work);
      return true;
    },

    async reset(token, newPassword, meta) {
      const peek = await db.transaction((tx) => consumeOneTimeToken(tx, token, "password_reset", clock.now(), { markUsed: false }));
      if (!peek.ok) throw new UserInputError(INVALID_RESET, "token");
      const candidate = await findUserById(db, peek.row.userId);
      if (!candidate || candidate.status === "disabled") throw new UserInputError(INVALID_RESET, "token");
      const hash = await prepare(candidate, newPassword, "newPassword");
      const user = await db.transaction(async (tx) => {
        const now = clock.now();
        const used = await consumeOneTimeToken(tx, token, "password_reset", now);
        if (!used.ok) return undefined;
        const locked = await lockUser(tx, used.row.userId);
        if (!locked) return undefined;
        await store(tx, locked, hash, now);
        const revoked = await revokeUserSessions(tx, locked.id, "password_reset", now);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: locked.id },
          action: AuditAction.PASSWORD_RESET,
          outcome: "success",
          target: { type: "user", id: locked.id },
          details: { sessionsRevoked: revoked },
        });
        return locked;
      });
      if (!user) throw new UserInputError(INVALID_RESET, "token");
      await versions.bumpUser(user.id);
      await notifier.send(passwordChanged({ to: user.email, at: clock.now(), ip: meta.ip }), { userId: user.id, meta });
      return true;
    },

    async change(principal, currentPassword, newPassword, meta) {
      const user = await findUserById(db, principal.userId);
      if (!user) throw new UserInputError("Account not found", "currentPassword");
      if (!(await hasher.verify(currentPassword, user.passwordHash))) {
        await recordAudit(db, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.PASSWORD_CHANGE_FAILED,
          outcome: "failure",
          target: { type: "user", id: user.id },
          details: { reason: "wrong_current_password" },
        });
        throw new UserInputError("Current password is incorrect", "currentPassword");
      }
      const hash = await prepare(user, newPassword, "newPassword");
      await db.transaction(async (tx) => {
        const now = clock.now();
        const locked = (await lockUser(tx, user.id)) as UserRow;
        await store(tx, locked, hash, now);
        const revoked = await revokeUserSessions(tx, user.id, "password_change", now, principal.sessionId);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.PASSWORD_CHANGED,
          outcome: "success",
          target: { type: "user", id: user.id },
          details: { otherSessionsRevoked: revoked },
        });
      });
      await versions.bumpUser(user.id);
      await notifier.send(passwordChanged({ to: user.email, at: clock.now(), ip: meta.ip }), { userId: user.id, meta });
      return true;
    },

    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
