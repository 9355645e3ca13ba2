import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { Notifier } from "../email/notifier";
import { ConflictError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { findUserByEmail, insertUser } from "../users/user.repository";
import type { EmailVerificationService } from "./email-verification.service";
import { normalizeEmail, normalizeUsername } from "./identity-rules";
import type { PasswordService } from "./password.service";
import type { UserPrincipal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import type { RefreshService } from "./refresh.service";
import { revokeSession } from "./session.repository";
import type { AuthResult, SessionIssuer } from "./session-issuer";

export type { AuthResult, SessionGrant } from "./session-issuer";

export interface AuthService {
  register(input: { email: string; password: string; username?: string | null }, meta: RequestMeta): Promise<AuthResult>;
  refresh(refreshToken: string, meta: RequestMeta): Promise<AuthResult>;
  logout(principal: UserPrincipal, meta: RequestMeta): Promise<void>;
}

/**
 * Account creation and the session's end. Sign-in lives in LoginService, rotation in
 * RefreshService; all three open sessions through the SessionIssuer.
 */
export function createAuthService(deps: {
  db: Db;
  issuer: SessionIssuer;
  passwords: PasswordService;
  verification: EmailVerificationService;
  refreshService: RefreshService;
  versions: PrincipalVersions;
  clock: Clock;
  requireVerifiedEmail: boolean;
  notifier: Pick<Notifier, "requireTransport">;
}): AuthService {
  const { db, issuer, passwords, verification, versions, clock } = deps;
  return {
    async register(input, meta) {
      const email = normalizeEmail(input.email);
      const username = input.username ? normalizeUsername(input.username) : null;
      // A session that can only verify its address is useless if the link cannot be sent.
      if (deps.requireVerifiedEmail) deps.notifier.requireTransport();
      const passwordHash = await passwords.prepare({ id: "", email, username, passwordHash: null }, input.password, "password");
      const grant = await db.transaction(async (tx) => {
        const now = clock.now();
        const user = await insertUser(tx, { email, username, passwordHash, passwordChangedAt: now });
        if (!user) {
          const emailTaken = await findUserByEmail(tx, email);
          throw emailTaken
            ? new ConflictError("This email is already registered", "email")
            : new ConflictError("This username is taken", "username");
        }
        const opened = await issuer.start(tx, user, meta, now, deps.requireVerifiedEmail ? "email_verification" : null);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.REGISTER,
          outcome: "success",
          target: { type: "user", id: user.id },
          details: { sessionId: opened.session.id, username },
        });
        return opened;
      });
      await verification.send(grant.user, meta);
      return issuer.complete(grant);
    },

    refresh: (token, meta) => deps.refreshService.refresh(token, meta),

    async logout(principal, meta) {
      await db.transaction(async (tx) => {
        const revoked = await revokeSession(tx, principal.sessionId, "logout", clock.now());
        if (!revoked) return;
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.LOGOUT,
          outcome: "success",
          target: { type: "session", id: principal.sessionId },
        });
      });
      await versions.bumpUser(principal.userId);
    },
  };
}
