import { sql } from "drizzle-orm";
import { index, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { agents } from "./agents";
import { users } from "./users";

/**
 * The stored status of a run. WAITING_APPROVAL is not stored: a RUNNING run with a held
 * action reads WAITING_APPROVAL (src/runs/run-status.ts), so it can never disagree with the
 * actions it is derived from. SUCCEEDED and FAILED are reported by the agent, CANCELLED by a
 * person; all three are final.
 */
export const runStatus = pgEnum("run_status", ["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]);

/**
 * One unit of an agent's work for its owner: started by the owner (for one of their agents)
 * or by the agent itself, finished once. Agent actions may name it (agent_actions.run_id);
 * a trigger (migration 0013) refuses a new action of a finished run. `thread_id` is chosen
 * by the client and unique per owner; `input_hash` lets a repeated start with the same
 * thread and the same input find the first run instead of failing.
 */
export const runs = pgTable(
  "runs",
  {
    id: uuid("id").primaryKey(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    threadId: text("thread_id"),
    name: text("name").notNull(),
    instructions: text("instructions"),
    initialData: jsonb("initial_data").$type<unknown>(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>(),
    /** SHA-256 of the canonical input (agent, name, instructions, data, metadata). */
    inputHash: text("input_hash").notNull(),
    status: runStatus("status").notNull(),
    output: jsonb("output").$type<unknown>(),
    /** Who started it: "user" or "agent" (with the id: the owner or the agent). */
    startedByType: text("started_by_type").notNull(),
    startedById: uuid("started_by_id").notNull(),
    rerunOf: uuid("rerun_of").references((): AnyPgColumn => runs.id, { onDelete: "set null" }),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex("runs_owner_thread_key").on(table.ownerId, table.threadId).where(sql`${table.threadId} IS NOT NULL`),
    index("runs_owner_idx").on(table.ownerId, table.startedAt),
    index("runs_agent_idx").on(table.agentId, table.startedAt),
    index("runs_started_idx").on(table.startedAt),
    index("runs_rerun_of_idx").on(table.rerunOf),
  ],
);
