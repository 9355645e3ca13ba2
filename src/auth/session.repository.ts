import { and, desc, eq, isNull, ne } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { refreshTokens, sessions } from "../db/schema";

export type SessionRow = typeof sessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export async function insertSession(
  tx: DbOrTx,
  values: {
    userId: string;
    ip: string | null;
    userAgent: string | null;
    now: Date;
    idleExpiresAt: Date;
    expiresAt: Date;
    restriction?: SessionRow["restriction"];
  },
): Promise<SessionRow> {
  const [row] = await tx
    .insert(sessions)
    .values({
      userId: values.userId,
      ip: values.ip,
      userAgent: values.userAgent,
      createdAt: values.now,
      lastUsedAt: values.now,
      idleExpiresAt: values.idleExpiresAt,
      expiresAt: values.expiresAt,
      restriction: values.restriction ?? null,
    })
    .returning();
  return row as SessionRow;
}

export async function findSessionById(tx: DbOrTx, id: string): Promise<SessionRow | undefined> {
  const [row] = await tx.select().from(sessions).where(eq(sessions.id, id)).limit(1);
  return row;
}

export async function listSessionsOfUser(tx: DbOrTx, userId: string): Promise<SessionRow[]> {
  return tx.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(desc(sessions.createdAt)).limit(500);
}

export async function touchSession(tx: DbOrTx, id: string, now: Date, idleExpiresAt: Date): Promise<void> {
  await tx.update(sessions).set({ lastUsedAt: now, idleExpiresAt }).where(eq(sessions.id, id));
}

/** Revokes a live session; returns false when it was already revoked (nothing changed). */
export async function revokeSession(tx: DbOrTx, id: string, reason: string, now: Date): Promise<boolean> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

export async function insertRefreshToken(
  tx: DbOrTx,
  values: { id: string; sessionId: string; secretHash: string; now: Date },
): Promise<void> {
  await tx
    .insert(refreshTokens)
    .values({ id: values.id, sessionId: values.sessionId, secretHash: values.secretHash, createdAt: values.now })
    .onConflictDoNothing();
}

/** Locks the token row and its session so concurrent refreshes of one session run in turn. */
export async function lockRefreshToken(
  tx: DbOrTx,
  id: string,
): Promise<{ token: RefreshTokenRow; session: SessionRow } | undefined> {
  const [row] = await tx
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.id, id))
    .limit(1)
    .for("update");
  return row;
}

export async function findRefreshToken(tx: DbOrTx, id: string): Promise<RefreshTokenRow | undefined> {
  const [row] = await tx.select().from(refreshTokens).where(eq(refreshTokens.id, id)).limit(1);
  return row;
}

export async function markRotated(tx: DbOrTx, id: string, now: Date): Promise<void> {
  await tx.update(refreshTokens).set({ rotatedAt: now }).where(eq(refreshTokens.id, id));
}

/** Revokes every live session of a user, optionally sparing one; returns how many ended. */
export async function revokeUserSessions(
  tx: DbOrTx,
  userId: string,
  reason: string,
  now: Date,
  exceptSessionId?: string,
): Promise<number> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined,
      ),
    )
    .returning({ id: sessions.id });
  return rows.length;
}

/** Lifts a restriction from every session of a user that has it (the condition is met now). */
export async function liftRestriction(tx: DbOrTx, userId: string, restriction: NonNullable<SessionRow["restriction"]>): Promise<void> {
  await tx
    .update(sessions)
    .set({ restriction: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.restriction, restriction)));
}

/** Whether the user signed in before from this ip and from this user agent (new-device notices). */
export async function seenBefore(
  tx: DbOrTx,
  userId: string,
  exceptSessionId: string,
  ip: string | null,
  userAgent: string | null,
): Promise<{ ip: boolean; userAgent: boolean }> {
  const earlier = await tx
    .select({ ip: sessions.ip, userAgent: sessions.userAgent })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), ne(sessions.id, exceptSessionId)))
    .orderBy(desc(sessions.createdAt))
    .limit(200);
  return {
    ip: earlier.some((row) => row.ip === ip),
    userAgent: earlier.some((row) => row.userAgent === userAgent),
  };
}
