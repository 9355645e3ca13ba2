import { bigint, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Alert thresholds of caps that were crossed: one row per (policy, cap, counter, threshold).
 * The counter key names the window instance, so a threshold alerts once per cap and window,
 * never once per action: the decision that crosses it inserts the row (ON CONFLICT DO
 * NOTHING) in its own transaction, under the counter's lock, and only an inserted row sends
 * the notifications. No foreign keys: history outlives policies, agents and accounts.
 */
export const spendThresholdCrossings = pgTable(
  "spend_threshold_crossings",
  {
    policyId: uuid("policy_id").notNull(),
    capId: text("cap_id").notNull(),
    counterKey: text("counter_key").notNull(),
    /** Percent of the limit, 1 to 100. */
    threshold: integer("threshold").notNull(),
    per: text("per").notNull(),
    window: text("window").notNull(),
    subject: text("subject").notNull(),
    limit: bigint("limit", { mode: "bigint" }).notNull(),
    /** The counter's spend (or count) once the crossing action was charged. */
    spent: bigint("spent", { mode: "bigint" }).notNull(),
    /** The action that crossed it, its agent and its owner (the one told by email). */
    actionId: uuid("action_id").notNull(),
    agentId: uuid("agent_id").notNull(),
    ownerId: uuid("owner_id").notNull(),
    crossedAt: timestamp("crossed_at", { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.policyId, table.capId, table.counterKey, table.threshold] })],
);
