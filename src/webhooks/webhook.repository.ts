import { and, asc, desc, eq, getTableColumns, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "../db/database";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "../db/schema";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
export type EventRow = typeof webhookEvents.$inferSelect;
export type DeliveryStatus = DeliveryRow["status"];

/** A delivery as the log shows it: with its event's type. */
export type DeliveryView = DeliveryRow & { eventType: string };

export interface DeliveryFilter {
  endpointId?: string;
  status?: DeliveryStatus;
  eventType?: string;
}

export async function insertEndpoint(
  tx: DbOrTx,
  values: { url: string; description: string | null; eventTypes: string[]; secretSealed: string; enabled: boolean; createdBy: string | null; now: Date },
): Promise<EndpointRow> {
  const { now, ...rest } = values;
  const [row] = await tx.insert(webhookEndpoints).values({ ...rest, createdAt: now, updatedAt: now }).returning();
  return row as EndpointRow;
}

export async function findEndpoint(tx: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<EndpointRow | undefined> {
  const query = tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
  const [row] = options.lock ? await query.for("update") : await query;
  return row;
}

export async function listEndpoints(tx: DbOrTx): Promise<EndpointRow[]> {
  return tx.select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id)).limit(500);
}

export async function updateEndpoint(tx: DbOrTx, id: string, values: Partial<EndpointRow>): Promise<EndpointRow> {
  const [row] = await tx.update(webhookEndpoints).set(values).where(eq(webhookEndpoints.id, id)).returning();
  return row as EndpointRow;
}

export async function deleteEndpoint(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints for this worker: `lease_until`
 * and `claim_id` are set under FOR UPDATE SKIP LOCKED, so two processes never claim the
 * same row, and a row whose lease lapsed (its claimer died) is due again. Returns the ids.
 */
export async function claimDue(tx: DbOrTx, now: Date, leaseUntil: Date, claimId: string, limit: number): Promise<string[]> {
  const result = await tx.execute(sql`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id AND ep.enabled
      WHERE d.status = 'PENDING' AND d.next_attempt_at <= ${now.toISOString()}::timestamptz
        AND (d.lease_until IS NULL OR d.lease_until <= ${now.toISOString()}::timestamptz)
      ORDER BY d.next_attempt_at LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d SET lease_until = ${leaseUntil.toISOString()}::timestamptz, claim_id = ${claimId}::uuid
    FROM due WHERE d.id = due.id
    RETURNING d.id::text AS id`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}

/** What the worker needs to send claimed deliveries: each with its event and endpoint. */
export async function claimedWork(tx: DbOrTx, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return tx
    .select({ delivery: webhookDeliveries, event: webhookEvents, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(inArray(webhookDeliveries.id, [...ids]));
}

/**
 * Records one attempt and the delivery's next state, if this worker still holds the claim
 * (a claimer whose lease lapsed and was re-claimed writes nothing). Returns whether it did.
 */
export async function recordAttempt(
  tx: DbOrTx,
  claim: { deliveryId: string; claimId: string },
  attempt: { number: number; at: Date; status: number | null; error: string | null; durationMs: number },
  next: { status: DeliveryStatus; nextAttemptAt: Date },
): Promise<boolean> {
  const updated = await tx
    .update(webhookDeliveries)
    .set({
      status: next.status,
      attempts: attempt.number,
      nextAttemptAt: next.nextAttemptAt,
      leaseUntil: null,
      claimId: null,
      lastAttemptAt: attempt.at,
      lastResponseStatus: attempt.status,
      lastError: attempt.error,
      ...(next.status === "SUCCEEDED" ? { deliveredAt: attempt.at } : {}),
    })
    .where(and(eq(webhookDeliveries.id, claim.deliveryId), eq(webhookDeliveries.claimId, claim.claimId)))
    .returning({ id: webhookDeliveries.id });
  if (updated.length === 0) return false;
  await tx.insert(webhookAttempts).values({
    deliveryId: claim.deliveryId,
    attempt: attempt.number,
    at: attempt.at,
    responseStatus: attempt.status,
    error: attempt.error,
    durationMs: Math.min(attempt.durationMs, 2_147_483_647),
  });
  return true;
}

export async function insertDelivery(tx: DbOrTx, values: { eventId: string; endpointId: string; now: Date }): Promise<DeliveryRow> {
  const [row] = await tx
    .insert(webhookDeliveries)
    .values({ eventId: values.eventId, endpointId: values.endpointId, status: "PENDING", attempts: 0, nextAttemptAt: values.now, createdAt: values.now })
    .returning();
  return row as DeliveryRow;
}

export async function findEvent(tx: DbOrTx, id: string): Promise<EventRow | undefined> {
  const [row] = await tx.select().from(webhookEvents).where(eq(webhookEvents.id, id)).limit(1);
  return row;
}

/** Enabled endpoints subscribed to this event type. */
export async function subscribersOf(tx: DbOrTx, type: string): Promise<EndpointRow[]> {
  return tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.enabled, true), sql`${type} = ANY(${webhookEndpoints.eventTypes})`));
}

const deliveryColumns = { ...getTableColumns(webhookDeliveries), eventType: webhookEvents.type };

function deliveriesWhere(filter: DeliveryFilter, after?: { createdAt: Date; id: string }): SQL | undefined {
  return and(
    filter.endpointId ? eq(webhookDeliveries.endpointId, filter.endpointId) : undefined,
    filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
    filter.eventType ? eq(webhookEvents.type, filter.eventType) : undefined,
    after
      ? or(lt(webhookDeliveries.createdAt, after.createdAt), and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id)))
      : undefined,
  );
}

/** The delivery log, newest first, one page and the total matching the filter. */
export async function listDeliveries(
  tx: DbOrTx,
  filter: DeliveryFilter,
  page: { limit: number; after?: { createdAt: Date; id: string } },
): Promise<{ rows: DeliveryView[]; hasNextPage: boolean; total: number }> {
  const rows = await tx
    .select(deliveryColumns)
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(deliveriesWhere(filter, page.after))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(page.limit + 1);
  const [count] = await tx
    .select({ total: sql<string>`count(*)::text` })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(deliveriesWhere(filter));
  return { rows: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit, total: Number(count?.total ?? 0) };
}

export async function findDelivery(tx: DbOrTx, id: string): Promise<DeliveryView | undefined> {
  const [row] = await tx
    .select(deliveryColumns)
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, id))
    .limit(1);
  return row;
}

/** The attempts of these deliveries, in order, grouped by delivery id. */
export async function attemptsOf(tx: DbOrTx, deliveryIds: readonly string[]): Promise<Map<string, AttemptRow[]>> {
  const grouped = new Map<string, AttemptRow[]>();
  if (deliveryIds.length === 0) return grouped;
  const rows = await tx
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, [...deliveryIds]))
    .orderBy(asc(webhookAttempts.deliveryId), asc(webhookAttempts.attempt));
  for (const row of rows) grouped.set(row.deliveryId, [...(grouped.get(row.deliveryId) ?? []), row]);
  return grouped;
}
