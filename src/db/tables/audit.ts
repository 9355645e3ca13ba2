import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const auditActorType = pgEnum("audit_actor_type", ["user", "agent", "system", "anonymous"]);
export const auditOutcome = pgEnum("audit_outcome", ["success", "failure", "denied"]);

/**
 * The append-only audit trail. A trigger (migration 0001) refuses UPDATE, DELETE and
 * TRUNCATE, so not even a bug in the application can rewrite history. Each row is also
 * chained to the one before it (`prev_hash`, `hash`; see src/audit/audit-chain.ts), so a
 * change made around the trigger (by a superuser, on the files) is detectable. `id` and
 * `occurred_at` are set by the recorder, not by these defaults, because they are hashed
 * before the insert. Rows written before the chain existed have `hash` null.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    seq: bigint("seq", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid("id").notNull().unique().defaultRandom(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    actorType: auditActorType("actor_type").notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    outcome: auditOutcome("outcome").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    /** `hash` of the row before this one in seq order; null for the first chained row. */
    prevHash: text("prev_hash"),
    /** SHA-256 hex of prev_hash and this row's canonical content. */
    hash: text("hash"),
  },
  (table) => [
    index("audit_events_action_idx").on(table.action, table.seq),
    index("audit_events_actor_idx").on(table.actorId, table.seq),
    index("audit_events_target_idx").on(table.targetId, table.seq),
    // With seq, a window's events are found index only (src/audit/audit-scan.ts).
    index("audit_events_occurred_idx").on(table.occurredAt, table.seq),
    // Two rows naming the same predecessor would be a fork: the database refuses the second
    // (NULLs stay distinct: the first chained row and rows from before the chain).
    // Failures and denials, the events a review looks for, found without walking the
    // successes written since (only they are indexed: a write of a success pays nothing).
    index("audit_events_unsuccessful_idx").on(table.outcome, table.seq).where(sql`${table.outcome} <> 'success'`),
    uniqueIndex("audit_events_prev_hash_key").on(table.prevHash),
  ],
);

/**
 * Points of the audit chain a verification has vouched for: the walk that ended at `seq`
 * started from the chain's first row, an anchor hash the caller kept, or an earlier
 * checkpoint, and every row up to `seq` checked out with `hash` the last one's. A later
 * verification may start after the latest checkpoint instead of from the first row, so
 * its cost follows the rows appended since. Append-only like the trail (migration 0019).
 */
export const auditCheckpoints = pgTable("audit_checkpoints", {
  seq: bigint("seq", { mode: "bigint" }).primaryKey(),
  hash: text("hash").notNull(),
  verifiedAt: timestamp("verified_at", { withTimezone: true }).notNull(),
  /** The user who ran the verification. */
  verifiedBy: uuid("verified_by"),
});
