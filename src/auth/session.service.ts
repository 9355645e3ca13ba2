import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { ForbiddenError, UserInputError } from "../errors/errors";
import { hasPermission, type Principal } from "./principal";
import type { SessionPolicy } from "./session-policy";
import { listSessionsOfUser, type SessionRow } from "./session.repository";

export type SessionRecord = SessionRow & { active: boolean };

export interface SessionService {
  /** A user's sessions, newest first: one's own, or anyone's with `users:read`. */
  list(principal: Principal, userId?: string | null): Promise<SessionRecord[]>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createSessionService(deps: { db: Db; sessionPolicy: SessionPolicy; clock: Clock }): SessionService {
  return {
    async list(principal, userId) {
      const target = userId ?? principal.userId;
      if (!UUID.test(target)) throw new UserInputError("userId is not a valid id", "userId");
      if (target !== principal.userId && !hasPermission(principal, "users:read")) {
        throw new ForbiddenError("Reading another user's sessions needs users:read");
      }
      const now = deps.clock.now();
      const rows = await listSessionsOfUser(deps.db, target);
      return rows.map((row) => ({ ...row, active: deps.sessionPolicy.endedReason(row, now) === undefined }));
    },
  };
}
