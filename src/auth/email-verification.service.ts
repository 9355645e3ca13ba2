import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { emailChanged, emailChangeVerify, verifyEmail } from "../email/email-templates";
import type { Notifier } from "../email/notifier";
import { ConflictError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { findUserByEmail, findUserById, lockUser, updateUser, type UserRow } from "../users/user.repository";
import { normalizeEmail } from "./identity-rules";
import { mailOneTimeLink } from "./emailed-link";
import { consumeOneTimeToken } from "./one-time-tokens";
import type { PasswordHasher } from "./passwords";
import type { Principal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import { liftRestriction } from "./session.repository";

export interface EmailVerificationService {
  /** Sends a verification link to the user's current address (after register, or on request). */
  send(user: Pick<UserRow, "id" | "email" | "emailVerifiedAt">, meta: RequestMeta): Promise<void>;
  verify(token: string, meta: RequestMeta): Promise<true>;
  resend(principal: Principal, meta: RequestMeta): Promise<true>;
  requestChange(principal: Principal, newEmail: string, password: string, meta: RequestMeta): Promise<true>;
  confirmChange(token: string, meta: RequestMeta): Promise<true>;
}

const INVALID_LINK = "This link is invalid or has expired";

/**
 * Proving control of an address: a link to the address on record after register, and a link
 * to the new address before an email change takes effect (the old address is told after).
 */
export function createEmailVerificationService(deps: {
  db: Db;
  hasher: PasswordHasher;
  notifier: Notifier;
  versions: PrincipalVersions;
  clock: Clock;
  ttlMs: number;
}): EmailVerificationService {
  const { db, hasher, notifier, versions, clock, ttlMs } = deps;

  async function send(user: Pick<UserRow, "id" | "email" | "emailVerifiedAt">, meta: RequestMeta) {
    // After register with no transport: nothing is sent; resend answers SERVICE_UNAVAILABLE.
    if (user.emailVerifiedAt || !notifier.configured) return;
    await mailOneTimeLink(deps, {
      userId: user.id,
      to: user.email,
      purpose: "verify_email",
      ttlMs,
      path: "/verify-email",
      template: verifyEmail,
      audit: { actor: { type: "system" }, action: AuditAction.EMAIL_VERIFICATION_SENT },
      meta,
    });
  }

  return {
    send,

    async verify(token, meta) {
      const userId = await db.transaction(async (tx) => {
        const now = clock.now();
        const used = await consumeOneTimeToken(tx, token, "verify_email", now);
        if (!used.ok) return undefined;
        const user = await lockUser(tx, used.row.userId);
        // A link for an address the account no longer has proves nothing.
        if (!user || user.email.toLowerCase() !== (used.row.email ?? "").toLowerCase()) return undefined;
        await updateUser(tx, user.id, { emailVerifiedAt: user.emailVerifiedAt ?? now, updatedAt: now });
        await liftRestriction(tx, user.id, "email_verification");
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.EMAIL_VERIFIED,
          outcome: "success",
          target: { type: "user", id: user.id },
          details: { email: user.email },
        });
        return user.id;
      });
      if (!userId) throw new UserInputError(INVALID_LINK, "token");
      await versions.bumpUser(userId);
      return true;
    },

    async resend(principal, meta) {
      notifier.requireTransport();
      const user = await findUserById(db, principal.userId);
      if (user) await send(user, meta);
      return true;
    },

    async requestChange(principal, rawEmail, password, meta) {
      const newEmail = normalizeEmail(rawEmail, "newEmail");
      notifier.requireTransport();
      const user = await findUserById(db, principal.userId);
      if (!user || !(await hasher.verify(password, user.passwordHash))) {
        throw new UserInputError("Password is incorrect", "password");
      }
      if (user.email.toLowerCase() === newEmail.toLowerCase()) throw new UserInputError("That is already your email", "newEmail");
      if (await findUserByEmail(db, newEmail)) throw new ConflictError("This email is already registered", "newEmail");
      await mailOneTimeLink(deps, {
        userId: user.id,
        to: newEmail,
        purpose: "email_change",
        ttlMs,
        path: "/confirm-email-change",
        template: emailChangeVerify,
        audit: { actor: { type: "user", id: user.id }, action: AuditAction.EMAIL_CHANGE_REQUESTED, details: { newEmail } },
        meta,
      });
      return true;
    },

    async confirmChange(token, meta) {
      const changed = await db.transaction(async (tx) => {
        const now = clock.now();
        const used = await consumeOneTimeToken(tx, token, "email_change", now);
        if (!used.ok || !used.row.email) return undefined;
        const user = await lockUser(tx, used.row.userId);
        if (!user) return undefined;
        if (await findUserByEmail(tx, used.row.email)) throw new ConflictError("This email is already registered", "token");
        await updateUser(tx, user.id, { email: used.row.email, emailVerifiedAt: now, updatedAt: now });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.EMAIL_CHANGED,
          outcome: "success",
          target: { type: "user", id: user.id },
          details: { from: user.email, to: used.row.email },
        });
        return { user, newEmail: used.row.email, at: now };
      });
      if (!changed) throw new UserInputError(INVALID_LINK, "token");
      await versions.bumpUser(changed.user.id);
      await notifier.send(emailChanged({ to: changed.user.email, newEmail: changed.newEmail, at: changed.at }), {
        userId: changed.user.id,
        meta,
      });
      return true;
    },
  };
}
