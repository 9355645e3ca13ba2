import { and, asc, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
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

/**
 * Inserts the action; undefined when another transaction already committed (or is about to
 * commit) an action with the same idempotency key: the insert waits for it, then skips.
 */
export async function insertAction(tx: Tx, values: NewActionRow): Promise<ActionRow | undefined> {
  const [row] = await tx.insert(agentActions).values(values).onConflictDoNothing().returning();
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

export interface ActionFilter {
  agentIds?: readonly string[];
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
  if (filter.action) parts.push(eq(agentActions.action, filter.action));
  if (filter.statuses && filter.statuses.length > 0) parts.push(inArray(agentActions.status, [...filter.statuses]));
  if (filter.outcome) parts.push(eq(agentActions.outcome, filter.outcome));
  if (filter.shadowOutcome) parts.push(eq(agentActions.shadowOutcome, filter.shadowOutcome));
  if (filter.from) parts.push(gte(agentActions.decidedAt, filter.from));
  if (filter.to) parts.push(lt(agentActions.decidedAt, filter.to));
  return and(...parts);
}

/** Newest first; `after` is the (decidedAt, id) of the last row of the previous page. */
export async function listActions(
  db: DbOrTx,
  filter: ActionFilter,
  page: { limit: number; after?: { decidedAt: Date; id: string } },
): Promise<ActionRow[]> {
  const after = page.after;
  const cursor = after
    ? or(lt(agentActions.decidedAt, after.decidedAt), and(eq(agentActions.decidedAt, after.decidedAt), lt(agentActions.id, after.id)))
    : undefined;
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

/** Oldest first: the order a what-if replays them in. */
export async function actionsInRange(db: DbOrTx, filter: ActionFilter, limit: number): Promise<ActionRow[]> {
  return db.select().from(agentActions).where(conditions(filter)).orderBy(asc(agentActions.decidedAt), asc(agentActions.id)).limit(limit);
}
