import { and, asc, count, gt, lte, max } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { auditEvents } from "../db/schema";
import { checkChainedRow, type ChainBreakReason } from "./audit-chain";
import { readAuditScan, scanConditions, type AuditScan } from "./audit-scan";

/** The audit repository: reads only (writes go through the recorder). */

export type AuditEventRow = typeof auditEvents.$inferSelect;

export interface ChainVerification {
  /** True when every row in the range is chained and links to the one before it. */
  ok: boolean;
  /** Rows examined, the first broken one included. */
  checked: number;
  firstBroken: { seq: bigint; id: string; reason: ChainBreakReason } | null;
  /** The last row that checked out, to anchor a later verification (or an outside copy). */
  lastGood: { seq: bigint; hash: string } | null;
}

/** Newest first: up to `first` rows with seq below `beforeSeq`, and whether more follow. */
export async function findAuditPageNewestFirst(
  db: DbOrTx,
  scan: AuditScan | null,
  page: { first: number; beforeSeq?: bigint },
): Promise<{ rows: AuditEventRow[]; hasNextPage: boolean }> {
  const rows = scan === null ? [] : await readAuditScan(db, scan, "newest", page.first + 1, { before: page.beforeSeq });
  return { rows: rows.slice(0, page.first), hasNextPage: rows.length > page.first };
}

/** Oldest first: up to `limit` rows with afterSeq < seq <= upToSeq (keyset paging for exports). */
export async function findAuditPageOldestFirst(
  db: DbOrTx,
  scan: AuditScan | null,
  page: { limit: number; afterSeq: bigint; upToSeq: bigint },
): Promise<AuditEventRow[]> {
  return scan === null ? [] : readAuditScan(db, scan, "oldest", page.limit, { after: page.afterSeq, before: page.upToSeq + 1n });
}

export async function countAuditEvents(db: DbOrTx, scan: AuditScan | null): Promise<number> {
  if (scan === null) return 0;
  const [row] = await db.select({ total: count() }).from(auditEvents).where(scanConditions(scan));
  return row?.total ?? 0;
}

/** The highest seq written so far (0 when the trail is empty). */
export async function headSeq(db: DbOrTx): Promise<bigint> {
  const [row] = await db.select({ seq: max(auditEvents.seq) }).from(auditEvents);
  return row?.seq === null || row?.seq === undefined ? 0n : BigInt(row.seq);
}

/**
 * Walks the chain in seq order over [fromSeq, toSeq] (default: the whole trail as it stands
 * when the walk starts), `batchSize` rows at a time, and stops at the first broken link.
 * From the start of the trail the first row must have no predecessor; from `fromSeq` the
 * first row must name `afterHash` as its predecessor when given (an anchor: the hash of
 * the row before, kept by the caller or a checkpoint), else its own prev_hash is taken as
 * the expected one (the range cannot vouch for what came before it).
 */
export async function verifyAuditChain(
  db: DbOrTx,
  range: { fromSeq?: bigint; toSeq?: bigint; afterHash?: string },
  batchSize = 500,
): Promise<ChainVerification> {
  const upTo = range.toSeq ?? (await headSeq(db));
  let afterSeq = range.fromSeq === undefined ? 0n : range.fromSeq - 1n;
  let expectedPrev: string | null | undefined = range.fromSeq === undefined ? null : range.afterHash;
  let checked = 0;
  let lastGood: ChainVerification["lastGood"] = null;
  for (;;) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(and(gt(auditEvents.seq, afterSeq), lte(auditEvents.seq, upTo)))
      .orderBy(asc(auditEvents.seq))
      .limit(batchSize);
    for (const row of rows) {
      checked += 1;
      const reason = checkChainedRow(expectedPrev === undefined ? row.prevHash : expectedPrev, row);
      if (reason) return { ok: false, checked, firstBroken: { seq: row.seq, id: row.id, reason }, lastGood };
      expectedPrev = row.hash;
      lastGood = { seq: row.seq, hash: row.hash as string };
      afterSeq = row.seq;
    }
    if (rows.length < batchSize) return { ok: true, checked, firstBroken: null, lastGood };
  }
}
