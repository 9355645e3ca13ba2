import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx, Tx } from "../db/database";
import { agentActions, auditEvents, runs } from "../db/schema";
import type { AuditEventRow } from "../audit/audit-query";

export type StoredRun = typeof runs.$inferSelect;
export type NewRun = typeof runs.$inferInsert;
/** A run as read: the row and whether one of its actions is held right now (run-status.ts). */
export type RunRecord = StoredRun & { held: boolean };
export type RunStatus = "RUNNING" | "WAITING_APPROVAL" | "SUCCEEDED" | "FAILED" | "CANCELLED";

/**
 * A hold that has not expired, even if the sweeper has not released it yet. Written out with
 * the table names: drizzle renders a column of the outer table unqualified, which inside the
 * subquery would name the action's own column.
 */
const heldAt = (now: Date) =>
  sql<boolean>`EXISTS (SELECT 1 FROM agent_actions a WHERE a.run_id = runs.id AND a.status = 'PENDING_APPROVAL'
    AND (a.expires_at IS NULL OR a.expires_at > ${now.toISOString()}::timestamptz))`;

const selection = (now: Date) => ({ run: runs, held: heldAt(now) });
const record = (row: { run: StoredRun; held: boolean }): RunRecord => ({ ...row.run, held: Boolean(row.held) });

export async function findRun(db: DbOrTx, id: string, now: Date): Promise<RunRecord | undefined> {
  const [row] = await db.select(selection(now)).from(runs).where(eq(runs.id, id)).limit(1);
  return row && record(row);
}

/** The run row locked for a change (finish, cancel); the caller derives nothing from it. */
export async function lockRun(tx: Tx, id: string): Promise<StoredRun | undefined> {
  const [row] = await tx.select().from(runs).where(eq(runs.id, id)).limit(1).for("update");
  return row;
}

export async function findRunByThread(db: DbOrTx, ownerId: string, threadId: string, now: Date): Promise<RunRecord | undefined> {
  const [row] = await db.select(selection(now)).from(runs).where(and(eq(runs.ownerId, ownerId), eq(runs.threadId, threadId))).limit(1);
  return row && record(row);
}

/** Inserts the run unless its thread id is taken (then undefined: the caller reads the first). */
export async function insertRun(tx: Tx, values: NewRun): Promise<StoredRun | undefined> {
  const [row] = await tx.insert(runs).values(values).onConflictDoNothing().returning();
  return row;
}

export async function updateRun(tx: Tx, id: string, values: Partial<NewRun>): Promise<StoredRun> {
  const [row] = await tx.update(runs).set(values).where(eq(runs.id, id)).returning();
  return row as StoredRun;
}

export interface RunFilter {
  ownerId?: string;
  agentId?: string;
  statuses?: readonly RunStatus[];
  /** Started at or after. */
  from?: Date;
  /** Started before. */
  to?: Date;
}

/** One status as a condition: WAITING_APPROVAL and RUNNING split the stored RUNNING by `held`. */
function statusCondition(status: RunStatus, now: Date): SQL | undefined {
  if (status === "WAITING_APPROVAL") return and(eq(runs.status, "RUNNING"), heldAt(now));
  if (status === "RUNNING") return and(eq(runs.status, "RUNNING"), sql`NOT ${heldAt(now)}`);
  return eq(runs.status, status);
}

function conditions(filter: RunFilter, now: Date): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (filter.ownerId) parts.push(eq(runs.ownerId, filter.ownerId));
  if (filter.agentId) parts.push(eq(runs.agentId, filter.agentId));
  if (filter.statuses && filter.statuses.length > 0) parts.push(or(...filter.statuses.map((status) => statusCondition(status, now))));
  if (filter.from) parts.push(gte(runs.startedAt, filter.from));
  if (filter.to) parts.push(lt(runs.startedAt, filter.to));
  return and(...parts);
}

/** Newest first; `after` is the (startedAt, id) of the last run of the previous page. */
export async function listRuns(db: DbOrTx, filter: RunFilter, page: { limit: number; after?: { at: Date; id: string } }, now: Date): Promise<RunRecord[]> {
  const after = page.after;
  const cursor = after && or(lt(runs.startedAt, after.at), and(eq(runs.startedAt, after.at), lt(runs.id, after.id)));
  const rows = await db
    .select(selection(now))
    .from(runs)
    .where(and(conditions(filter, now), cursor))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(page.limit);
  return rows.map(record);
}

export async function countRuns(db: DbOrTx, filter: RunFilter, now: Date): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(runs).where(conditions(filter, now));
  return row?.count ?? 0;
}

/** The runs started by `rerun` of this one, oldest first. */
export async function rerunsOf(db: DbOrTx, id: string, now: Date): Promise<RunRecord[]> {
  const rows = await db.select(selection(now)).from(runs).where(eq(runs.rerunOf, id)).orderBy(runs.startedAt, runs.id).limit(200);
  return rows.map(record);
}

/** What a run's actions hold now (reserved) and were charged (settled), summed exactly. */
export async function runSpend(db: DbOrTx, id: string): Promise<{ reserved: bigint; settled: bigint }> {
  const [row] = await db
    .select({
      reserved: sql<string>`coalesce(sum(${agentActions.reserved}), 0)::text`,
      settled: sql<string>`coalesce(sum(${agentActions.actualCost}) FILTER (WHERE ${agentActions.status} = 'SETTLED'), 0)::text`,
    })
    .from(agentActions)
    .where(eq(agentActions.runId, id));
  return { reserved: BigInt(row?.reserved ?? "0"), settled: BigInt(row?.settled ?? "0") };
}

/** The run's log: its own audit rows and those of its actions (decisions, approvals, settles). */
function logCondition(id: string): SQL | undefined {
  const ofActions = sql`audit_events.target_id IN (SELECT a.id::text FROM agent_actions a WHERE a.run_id = ${id})`;
  return or(and(eq(auditEvents.targetType, "run"), eq(auditEvents.targetId, id)), and(eq(auditEvents.targetType, "agent_action"), ofActions));
}

/** Newest first: up to `first` rows with seq below `beforeSeq`, and whether more follow. */
export async function runLog(db: DbOrTx, id: string, page: { first: number; beforeSeq?: bigint }): Promise<{ rows: AuditEventRow[]; hasNextPage: boolean }> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(logCondition(id), page.beforeSeq === undefined ? undefined : lt(auditEvents.seq, page.beforeSeq)))
    .orderBy(desc(auditEvents.seq))
    .limit(page.first + 1);
  return { rows: rows.slice(0, page.first), hasNextPage: rows.length > page.first };
}

export async function countRunLog(db: DbOrTx, id: string): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(auditEvents).where(logCondition(id));
  return row?.count ?? 0;
}

/** The run ids of these actions (an audit row reaches its run through its action). */
export async function runIdsOfActions(db: DbOrTx, actionIds: readonly string[]): Promise<Map<string, string>> {
  if (actionIds.length === 0) return new Map();
  const rows = await db.select({ id: agentActions.id, runId: agentActions.runId }).from(agentActions).where(inArray(agentActions.id, [...actionIds]));
  return new Map(rows.flatMap((row) => (row.runId === null ? [] : [[row.id, row.runId] as [string, string]])));
}
