import { sql } from "drizzle-orm";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import { rowsOf, type Db, type Tx } from "../db/database";
import { SYSTEM_REQUEST } from "../request-meta";

/** Rows a run deleted, by kind. */
export interface HousekeepingCounts {
  sessions: number;
  oneTimeTokens: number;
  webhookEvents: number;
}

export const deletedTotal = (counts: HousekeepingCounts) => counts.sessions + counts.oneTimeTokens + counts.webhookEvents;

/** Arbitrary, fixed key of the advisory lock of a housekeeping run (next to the audit chain's, 726_340_120). */
const HOUSEKEEPING_LOCK_KEY = 726_340_121;
const DEFAULT_BATCH = 5_000;

/**
 * Deletes what has been over for longer than the retention: sessions (ended by revocation,
 * expiry or idleness; their refresh tokens go with them), one-time tokens (used, voided or
 * expired), and webhook events whose every delivery has finished (their deliveries and
 * attempts go with them). Rate-limit state needs no sweep: every key carries its own expiry
 * (Redis EXPIRE, or the in-process store's sweep).
 *
 * One process at a time: the run takes a transaction-scoped advisory lock and a process that
 * cannot get it skips this round. At most `batch` rows of each kind go per run, so a
 * backlog is worked off over several runs instead of in one long transaction. A run that
 * deleted anything is audited as one summary event, in its transaction.
 */
export function createHousekeeping(deps: { db: Db; clock: Clock; retentionMs: number; batch?: number }) {
  const batch = deps.batch ?? DEFAULT_BATCH;

  /** Deletes at most `batch` rows picked by `candidates` (a query of ids) and returns how many. */
  async function deleteSome(tx: Tx, table: string, candidates: ReturnType<typeof sql>): Promise<number> {
    const deleted = await tx.execute(sql`
      WITH doomed AS (${candidates} LIMIT ${batch})
      DELETE FROM ${sql.identifier(table)} WHERE id IN (SELECT id FROM doomed) RETURNING 1`);
    return rowsOf(deleted).length;
  }

  return {
    /** One run; null when another process holds the run's lock. */
    async run(): Promise<HousekeepingCounts | null> {
      const now = deps.clock.now();
      const cutoff = new Date(now.getTime() - deps.retentionMs).toISOString();
      return deps.db.transaction(async (tx) => {
        const [lock] = rowsOf<{ locked: boolean }>(await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${HOUSEKEEPING_LOCK_KEY}) AS locked`));
        if (!lock?.locked) return null;
        const counts: HousekeepingCounts = {
          sessions: await deleteSome(
            tx,
            "sessions",
            sql`SELECT id FROM sessions
              WHERE least(coalesce(revoked_at, 'infinity'::timestamptz), expires_at, idle_expires_at) < ${cutoff}::timestamptz`,
          ),
          oneTimeTokens: await deleteSome(
            tx,
            "one_time_tokens",
            sql`SELECT id FROM one_time_tokens
              WHERE least(coalesce(used_at, 'infinity'::timestamptz), coalesce(invalidated_at, 'infinity'::timestamptz), expires_at) < ${cutoff}::timestamptz`,
          ),
          webhookEvents: await deleteSome(
            tx,
            "webhook_events",
            sql`SELECT e.id FROM webhook_events e
              WHERE e.occurred_at < ${cutoff}::timestamptz
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'PENDING')
              ORDER BY e.occurred_at`,
          ),
        };
        if (deletedTotal(counts) > 0) {
          await recordAudit(tx, SYSTEM_REQUEST, {
            actor: { type: "system" },
            action: AuditAction.HOUSEKEEPING,
            outcome: "success",
            details: { deleted: { ...counts }, endedBefore: cutoff, retentionMs: deps.retentionMs },
            at: now,
          });
        }
        return counts;
      });
    },
  };
}

export type Housekeeping = ReturnType<typeof createHousekeeping>;
