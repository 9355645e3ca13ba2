import { bigint, index, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const auditActorType = pgEnum("audit_actor_type", ["user", "agent", "system", "anonymous"]);
export const auditOutcome = pgEnum("audit_outcome", ["success", "failure", "denied"]);

/**
 * The append-only audit trail. A trigger (migration 0001) refuses UPDATE, DELETE and
 * TRUNCATE, so not even a bug in the application can rewrite history.
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
  },
  (table) => [
    index("audit_events_action_idx").on(table.action, table.seq),
    index("audit_events_actor_idx").on(table.actorId, table.seq),
    index("audit_events_target_idx").on(table.targetId, table.seq),
    index("audit_events_occurred_idx").on(table.occurredAt),
  ],
);
