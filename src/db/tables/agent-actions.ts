import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { agents } from "./agents";
import { runs } from "./runs";

export const actionOutcome = pgEnum("action_outcome", ["ALLOWED", "DENIED", "PENDING_APPROVAL"]);
/**
 * Where an action is in its life: RESERVED (allowed, its estimate held on every counter) ->
 * SETTLED | CANCELLED | EXPIRED; PENDING_APPROVAL -> RESERVED | REJECTED | DENIED (approved
 * but no longer fits) | EXPIRED; DENIED is final at once.
 */
export const actionStatus = pgEnum("action_status", [
  "RESERVED",
  "SETTLED",
  "CANCELLED",
  "EXPIRED",
  "PENDING_APPROVAL",
  "REJECTED",
  "DENIED",
]);

/** A decision's record as stored; see src/actions/decision-record.ts for its codec. */
export type StoredDecisionRecord = Record<string, unknown>;

/**
 * Every action an agent submitted and the decision taken on it: one row per action, written
 * in the transaction that decided it, with the record a reviewer needs to replay the
 * decision. `reserved` is what the action holds on each of `counter_keys` right now (its
 * estimate while RESERVED, 0 after); `charged` what it was finally charged (settled cost).
 * An idempotency key is unique per agent: a retry finds the first decision.
 */
export const agentActions = pgTable(
  "agent_actions",
  {
    id: uuid("id").primaryKey(),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    ownerId: uuid("owner_id").notNull(),
    action: text("action").notNull(),
    resource: text("resource"),
    estimatedCost: bigint("estimated_cost", { mode: "bigint" }).notNull(),
    actualCost: bigint("actual_cost", { mode: "bigint" }),
    metadata: jsonb("metadata").$type<Record<string, unknown>>(),
    idempotencyKey: text("idempotency_key"),
    /** SHA-256 of the submitted input: the same key with other input is refused, not replayed. */
    inputHash: text("input_hash").notNull(),
    outcome: actionOutcome("outcome").notNull(),
    status: actionStatus("status").notNull(),
    /** What the SHADOW policies would have decided; null when none applied. */
    shadowOutcome: actionOutcome("shadow_outcome"),
    reasons: jsonb("reasons").$type<unknown[]>().notNull(),
    record: jsonb("record").$type<StoredDecisionRecord>().notNull(),
    counterKeys: text("counter_keys").array().notNull().default(sql`'{}'::text[]`),
    reserved: bigint("reserved", { mode: "bigint" }).notNull().default(sql`0`),
    overrun: boolean("overrun").notNull().default(false),
    decidedAt: timestamp("decided_at", { withTimezone: true }).notNull(),
    /** RESERVED: when an unsettled reservation is released; PENDING_APPROVAL: when the hold ends. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    /** The approver or rejecter (a user id; no foreign key: history outlives accounts). */
    resolvedBy: uuid("resolved_by"),
    /** The run the agent named when it submitted the action (src/runs); null for none. */
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
  },
  (table) => [
    uniqueIndex("agent_actions_idempotency_key").on(table.agentId, table.idempotencyKey),
    index("agent_actions_agent_idx").on(table.agentId, table.decidedAt),
    index("agent_actions_owner_idx").on(table.ownerId, table.decidedAt),
    index("agent_actions_decided_idx").on(table.decidedAt),
    index("agent_actions_run_idx").on(table.runId, table.decidedAt),
    index("agent_actions_due_idx").on(table.expiresAt).where(sql`${table.status} IN ('RESERVED', 'PENDING_APPROVAL')`),
    check("agent_actions_costs_check", sql`${table.estimatedCost} >= 0 AND (${table.actualCost} IS NULL OR ${table.actualCost} >= 0) AND ${table.reserved} >= 0`),
  ],
);

/**
 * The spend ledger: one row per counter (`serializeCapKey`: per, window, window start,
 * subject). `reserved` is the sum of live reservations, `settled` of settled charges; a cap
 * reads reserved + settled. Rows are locked (SELECT ... FOR UPDATE, in key order) by the
 * transaction that decides an action, so a cap's last room goes to one action only.
 */
export const spendCounters = pgTable(
  "spend_counters",
  {
    key: text("key").primaryKey(),
    per: text("per").notNull(),
    window: text("window").notNull(),
    subject: text("subject").notNull(),
    /** ACTIONS for a velocity counter (a count of allowed actions, kept in `settled`); null: spend. */
    measure: text("measure"),
    /** The action pattern a pattern-scoped cap counts; null: every action. */
    pattern: text("pattern"),
    windowStart: timestamp("window_start", { withTimezone: true }),
    windowEnd: timestamp("window_end", { withTimezone: true }),
    reserved: bigint("reserved", { mode: "bigint" }).notNull().default(sql`0`),
    settled: bigint("settled", { mode: "bigint" }).notNull().default(sql`0`),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("spend_counters_subject_idx").on(table.per, table.subject, table.window),
    check("spend_counters_amounts_check", sql`${table.reserved} >= 0 AND ${table.settled} >= 0`),
  ],
);

/**
 * Corrections of the ledger by a person with spend:write: one row per credit (negative
 * `amount`: room given back) or debit (positive: spend charged that no action recorded) on
 * one counter, written with the counter change and its audit row in one transaction. A
 * counter's settled spend is therefore the settled costs of its actions plus the sum of its
 * adjustments. No foreign keys: history outlives agents and accounts.
 */
export const spendAdjustments = pgTable(
  "spend_adjustments",
  {
    id: uuid("id").primaryKey(),
    counterKey: text("counter_key").notNull(),
    per: text("per").notNull(),
    window: text("window").notNull(),
    subject: text("subject").notNull(),
    /** Null for TOTAL. */
    windowStart: timestamp("window_start", { withTimezone: true }),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    reason: text("reason").notNull(),
    actorId: uuid("actor_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    index("spend_adjustments_counter_idx").on(table.counterKey),
    index("spend_adjustments_created_idx").on(table.createdAt, table.id),
    check("spend_adjustments_amount_check", sql`${table.amount} <> 0`),
  ],
);
