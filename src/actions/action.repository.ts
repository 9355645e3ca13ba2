import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx, Tx } from "../db/database";
import { agentActions } from "../db/schema";

export type ActionRow = typeof agentActions.$inferSelect;
export type NewActionRow = typeof agentActions.$inferInsert;
export type ActionStatus = ActionRow["status"];

export async function findAction(db: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<ActionRow | undefined> {
  const query = db.select().from(agentActions).where(eq(agentActions.id, id)).limit(1);
  const [row] = options.lock ? await query.for("update") : await query;
  return row;
}

export async function findByIdempotencyKey(db: DbOrTx, agentId: string, key: string): Promise<ActionRow | undefined> {
  const [row] = await db
    .select()
    .from(agentActions)
    .where(and(eq(agentActions.agentId, agentId), eq(agentActions.idempotencyKey, key)))
    .limit(1);
  return row;
}

export async function updateAction(tx: Tx, id: string, values: Partial<NewActionRow>): Promise<ActionRow> {
  const [row] = await tx.update(agentActions).set(values).where(eq(agentActions.id, id)).returning();
  return row as ActionRow;
}

/** Ids of reservations and holds past their expiry, skipping rows another process is on. */
export async function dueForExpiry(tx: Tx, now: Date, limit: number): Promise<ActionRow[]> {
  return tx
    .select()
    .from(agentActions)
    .where(and(inArray(agentActions.status, ["RESERVED", "PENDING_APPROVAL"]), lte(agentActions.expiresAt, now)))
    .orderBy(asc(agentActions.expiresAt))
    .limit(limit)
    .for("update", { skipLocked: true });
}

/**
 * The open actions of an agent (reservations and holds), locked, in id order: what
 * suspending or deleting the agent releases. Waits for a step that holds one of them.
 */
export async function openActionsOf(tx: Tx, agentId: string): Promise<ActionRow[]> {
  return tx
    .select()
    .from(agentActions)
    .where(and(eq(agentActions.agentId, agentId), inArray(agentActions.status, ["RESERVED", "PENDING_APPROVAL"])))
    .orderBy(asc(agentActions.id))
    .for("update");
}

/** The held actions of a run, locked, in id order: what finishing or cancelling the run withdraws. */
export async function heldActionsOfRun(tx: Tx, runId: string): Promise<ActionRow[]> {
  return tx
    .select()
    .from(agentActions)
    .where(and(eq(agentActions.runId, runId), eq(agentActions.status, "PENDING_APPROVAL")))
    .orderBy(asc(agentActions.id))
    .for("update");
}

export interface ActionFilter {
  agentIds?: readonly string[];
  runId?: string;
  ownerId?: string;
  action?: string;
  statuses?: readonly ActionStatus[];
  outcome?: ActionRow["outcome"];
  shadowOutcome?: ActionRow["shadowOutcome"];
  from?: Date;
  to?: Date;
}

function conditions(filter: ActionFilter): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (filter.agentIds) parts.push(filter.agentIds.length > 0 ? inArray(agentActions.agentId, [...filter.agentIds]) : sql`false`);
  if (filter.ownerId) parts.push(eq(agentActions.ownerId, filter.ownerId));
  if (filter.runId) parts.push(eq(agentActions.runId, filter.runId));
  if (filter.action) parts.push(eq(agentActions.action, filter.action));
  if (filter.statuses && filter.statuses.length > 0) parts.push(inArray(agentActions.status, [...filter.statuses]));
  if (filter.outcome) parts.push(eq(agentActions.outcome, filter.outcome));
  if (filter.shadowOutcome) parts.push(eq(agentActions.shadowOutcome, filter.shadowOutcome));
  if (filter.from) parts.push(gte(agentActions.decidedAt, filter.from));
  if (filter.to) parts.push(lt(agentActions.decidedAt, filter.to));
  return and(...parts);
}

/** A page's position: the (decidedAt, id) of the last row of the previous page. */
type ActionPosition = { decidedAt: Date; id: string };

/** Rows past `after` in (decidedAt, id) order: before it going newest first, after it going oldest first. */
function pastPosition(after: ActionPosition | undefined, direction: "newest" | "oldest"): SQL | undefined {
  if (!after) return undefined;
  const beyond = direction === "newest" ? lt : gt;
  return or(beyond(agentActions.decidedAt, after.decidedAt), and(eq(agentActions.decidedAt, after.decidedAt), beyond(agentActions.id, after.id)));
}

/** Newest first; `after` is the (decidedAt, id) of the last row of the previous page. */
export async function listActions(db: DbOrTx, filter: ActionFilter, page: { limit: number; after?: ActionPosition }): Promise<ActionRow[]> {
  const cursor = pastPosition(page.after, "newest");
  return db
    .select()
    .from(agentActions)
    .where(and(conditions(filter), cursor))
    .orderBy(desc(agentActions.decidedAt), desc(agentActions.id))
    .limit(page.limit);
}

export async function countActions(db: DbOrTx, filter: ActionFilter): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(agentActions).where(conditions(filter));
  return row?.count ?? 0;
}

/** What a replay reads of an action: its decision record and what a report names. */
export type ReplayRow = Pick<ActionRow, "id" | "agentId" | "action" | "estimatedCost" | "decidedAt" | "outcome" | "record">;

/**
 * Oldest first (the order a what-if replays them in), one page at a time so a replay over
 * thousands of actions never holds them all: `after` is the last row of the previous page.
 */
export async function replayPage(db: DbOrTx, filter: ActionFilter, page: { limit: number; after?: ActionPosition }): Promise<ReplayRow[]> {
  const cursor = pastPosition(page.after, "oldest");
  return db
    .select({
      id: agentActions.id,
      agentId: agentActions.agentId,
      action: agentActions.action,
      estimatedCost: agentActions.estimatedCost,
      decidedAt: agentActions.decidedAt,
      outcome: agentActions.outcome,
      record: agentActions.record,
    })
    .from(agentActions)
    .where(and(conditions(filter), cursor))
    .orderBy(asc(agentActions.decidedAt), asc(agentActions.id))
    .limit(page.limit);
}
