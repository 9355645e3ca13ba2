import { desc, lte } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { auditCheckpoints } from "../db/schema";

/**
 * Checkpoints of the audit chain (db/tables/audit.ts): where a trusted verification ended,
 * so the next one can start there.
 */

/** The latest checkpoint at or before `atMost` (any, without it). */
export async function latestCheckpoint(db: DbOrTx, atMost?: bigint): Promise<{ seq: bigint; hash: string } | undefined> {
  const [row] = await db
    .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.hash })
    .from(auditCheckpoints)
    .where(atMost === undefined ? undefined : lte(auditCheckpoints.seq, atMost))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(1);
  return row;
}

/** Records that the chain checked out up to `point` (once per seq). */
export async function recordCheckpoint(db: DbOrTx, point: { seq: bigint; hash: string }, at: Date, by: string): Promise<void> {
  await db.insert(auditCheckpoints).values({ seq: point.seq, hash: point.hash, verifiedAt: at, verifiedBy: by }).onConflictDoNothing();
}
