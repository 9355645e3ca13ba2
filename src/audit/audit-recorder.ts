import crypto from "node:crypto";
import { is, sql, type SQL } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../db/database";
import type { RequestMeta } from "../request-meta";
import type { AuditAction } from "./audit-actions";
import { canonicalOfStored, type AuditContent } from "./audit-chain";
import { cleanText, storedDetails } from "./stored-details";

export type AuditActor =
  | { type: "user"; id: string }
  | { type: "agent"; id: string }
  | { type: "system"; id?: string }
  | { type: "anonymous" };

export interface AuditEntry {
  actor: AuditActor;
  action: AuditAction;
  outcome: "success" | "failure" | "denied";
  target?: { type: string; id: string };
  details?: Record<string, unknown>;
  /** When it happened; defaults to now. Callers holding a Clock pass its time. */
  at?: Date;
}

/**
 * Arbitrary, fixed key of the transaction-scoped advisory lock that orders audit appends
 * (next to the migration lock, 726_340_118, and the bootstrap lock, 726_340_119).
 */
export const AUDIT_CHAIN_LOCK_KEY = 726_340_120;

const clip = (value: string | null) => (value === null ? null : cleanText(value));

/**
 * Writes one audit row with the caller's transaction, so the row commits with the change it
 * describes or not at all. Failures propagate: a change that cannot be audited does not happen.
 * Callers pass details free of secrets; nothing here can tell a secret from a value.
 *
 * Chaining: under `pg_advisory_xact_lock(AUDIT_CHAIN_LOCK_KEY)` the row with the highest seq
 * is read and the new row inserted with `prev_hash` = its hash, all in one call of the SQL
 * function `audit_append_lines` (one round trip: the lock is held for less time). The
 * lock is held until the caller's transaction ends, so appends happen one at a time and
 * each one reads the row committed just before it: seq order = commit order = chain order,
 * and the chain cannot fork (the unique index on prev_hash would refuse a fork anyway). A
 * rolled-back transaction takes its row with it and leaves only a gap in seq, which the
 * chain does not depend on.
 *
 * Cost and rules for callers:
 * - audited transactions serialize from their audit insert until they commit, so write the
 *   audit row last, after every other write of the transaction (every caller does);
 * - take row locks before the audit (a transaction holding the audit lock that then waits on
 *   a row lock can deadlock with one holding that row and waiting on the audit);
 * - use READ COMMITTED (the default): the head is read by a statement that starts after the
 *   lock is granted, so it sees the previous append; an older snapshot would not.
 * Given `db` instead of a transaction, the recorder opens one of its own.
 */
export async function recordAudit(tx: DbOrTx, meta: RequestMeta, entry: AuditEntry): Promise<void> {
  const append = sql`SELECT ${auditBatchCall([{ meta, entry }])}`;
  if (is(tx, PgTransaction)) {
    await tx.execute(append);
  } else {
    await tx.transaction((own) => own.execute(append));
  }
}

/**
 * Audit appends as one SQL expression (`audit_append_lines(...)`, migration 0021: the chain
 * lock, the head read and the inserts in one round trip), chained in order. One entry for a
 * change; a batch of decisions committed together writes its rows together. Evaluated
 * inside the transaction of the change, after its row locks.
 */
export function auditBatchCall(entries: readonly { meta: RequestMeta; entry: AuditEntry }[]): SQL {
  return sql`audit_append_lines(${AUDIT_CHAIN_LOCK_KEY}, ${auditLines(entries)}::text)`;
}

/**
 * The `p_lines` argument of `audit_append_lines` (for a statement written by hand, with
 * AUDIT_CHAIN_LOCK_KEY as `p_lock_key`): each row's canonical content, the text its hash
 * covers, one line a row. PostgreSQL reads the columns out of that text, so the details
 * travel once. JSON.stringify escapes every line break, so a line never holds one.
 */
export function auditLines(entries: readonly { meta: RequestMeta; entry: AuditEntry }[]): string {
  return entries.map(({ meta, entry }) => canonicalOfStored(contentOf(meta, entry))).join("\n");
}

function contentOf(meta: RequestMeta, entry: AuditEntry): RecordedContent {
  return {
    id: crypto.randomUUID(),
    occurredAt: new Date((entry.at ?? new Date()).getTime()),
    actorType: entry.actor.type,
    actorId: "id" in entry.actor ? (entry.actor.id ?? null) : null,
    action: entry.action,
    outcome: entry.outcome,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    ip: clip(meta.ip),
    userAgent: clip(meta.userAgent),
    requestId: clip(meta.requestId),
    details: storedDetails(entry.details ?? {}) as Record<string, unknown>,
  };
}

/** The hashed content, typed as the table takes it. */
interface RecordedContent extends AuditContent {
  actorType: AuditActor["type"];
  outcome: AuditEntry["outcome"];
  details: Record<string, unknown>;
}
