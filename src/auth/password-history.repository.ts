import { and, desc, eq, notInArray } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { passwordHistory } from "../db/schema";

/** The most recent earlier password hashes of a user, newest first. */
export async function recentPasswordHashes(tx: DbOrTx, userId: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const rows = await tx
    .select({ hash: passwordHistory.passwordHash })
    .from(passwordHistory)
    .where(eq(passwordHistory.userId, userId))
    .orderBy(desc(passwordHistory.createdAt))
    .limit(count);
  return rows.map((row) => row.hash);
}

/** Remembers a replaced hash and forgets all but the newest `keep`. */
export async function rememberPasswordHash(tx: DbOrTx, userId: string, hash: string, now: Date, keep: number): Promise<void> {
  if (keep <= 0) return;
  await tx.insert(passwordHistory).values({ userId, passwordHash: hash, createdAt: now });
  const kept = await tx
    .select({ id: passwordHistory.id })
    .from(passwordHistory)
    .where(eq(passwordHistory.userId, userId))
    .orderBy(desc(passwordHistory.createdAt))
    .limit(keep);
  await tx.delete(passwordHistory).where(
    and(
      eq(passwordHistory.userId, userId),
      notInArray(
        passwordHistory.id,
        kept.map((row) => row.id),
      ),
    ),
  );
}
