import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { ForbiddenError, NotFoundError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { hasPermission, type Principal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import type { SessionPolicy } from "./session-policy";
import { findSessionById, listSessionsOfUser, revokeSession, revokeUserSessions, type SessionRow } from "./session.repository";
import { assertUuid } from "../validation/ids";
import { assertMayActOn } from "../users/authority";

export type SessionRecord = SessionRow & { active: boolean };

export interface SessionService {
  /** A user's sessions, newest first: one's own, or anyone's with `users:read`. */
  list(principal: Principal, userId?: string | null): Promise<SessionRecord[]>;
  /** Ends one session: one's own, or anyone's with `users:write`. */
  revoke(principal: Principal, sessionId: string, meta: RequestMeta): Promise<boolean>;
  /** Ends every session of a user (all but the caller's current one, for oneself); returns how many. */
  revokeAll(principal: Principal, userId: string | null | undefined, meta: RequestMeta): Promise<number>;
}


export function createSessionService(deps: {
  db: Db;
  sessionPolicy: SessionPolicy;
  clock: Clock;
  versions: PrincipalVersions;
}): SessionService {
  const { db, clock, versions } = deps;

  function assertMayManage(principal: Principal, userId: string) {
    if (userId !== principal.userId && !hasPermission(principal, "users:write")) {
      throw new ForbiddenError("Ending another user's sessions needs users:write");
    }
  }

  return {
    async list(principal, userId) {
      const target = userId ?? principal.userId;
      assertUuid(target, "userId", "userId is not a valid id");
      if (target !== principal.userId && !hasPermission(principal, "users:read")) {
        throw new ForbiddenError("Reading another user's sessions needs users:read");
      }
      const now = deps.clock.now();
      const rows = await listSessionsOfUser(deps.db, target);
      return rows.map((row) => ({ ...row, active: deps.sessionPolicy.endedReason(row, now) === undefined }));
    },

    async revoke(principal, sessionId, meta) {
      assertUuid(sessionId, "id", "Not a valid session id");
      const session = await findSessionById(db, sessionId);
      if (!session) throw new NotFoundError("No such session");
      assertMayManage(principal, session.userId);
      const revoked = await db.transaction(async (tx) => {
        await assertMayActOn(tx, principal, session.userId);
        const ended = await revokeSession(tx, sessionId, session.userId === principal.userId ? "revoked_by_user" : "revoked_by_admin", clock.now());
        if (ended) {
          await recordAudit(tx, meta, {
            actor: { type: "user", id: principal.userId },
            action: AuditAction.SESSION_REVOKED,
            outcome: "success",
            target: { type: "session", id: sessionId },
            details: { userId: session.userId },
          });
        }
        return ended;
      });
      await versions.bumpUser(session.userId);
      return revoked;
    },

    async revokeAll(principal, userId, meta) {
      const target = userId ?? principal.userId;
      assertUuid(target, "userId", "userId is not a valid id");
      assertMayManage(principal, target);
      const self = target === principal.userId;
      const count = await db.transaction(async (tx) => {
        await assertMayActOn(tx, principal, target);
        const ended = await revokeUserSessions(tx, target, self ? "revoked_by_user" : "revoked_by_admin", clock.now(), self ? principal.sessionId : undefined);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.SESSIONS_REVOKED,
          outcome: "success",
          target: { type: "user", id: target },
          details: { count: ended, keptCurrent: self },
        });
        return ended;
      });
      await versions.bumpUser(target);
      return count;
    },
  };
}
