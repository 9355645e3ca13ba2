import crypto from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { jsonSafe } from "../actions/decision-record";
import type { DbOrTx } from "../db/database";
import type { Statement } from "../db/flights";
import type { WebhookEventInput } from "./webhook-event-types";

/**
 * Writing events to the outbox, inside the caller's transaction: the event commits with the
 * change it reports or not at all, and a worker delivers it later (webhook-worker.ts), so no
 * endpoint is ever waited for on the path of a change.
 *
 * One statement does it all: the events are joined with the enabled endpoints that subscribe
 * to their type; only events someone subscribes to are stored, with one PENDING delivery per
 * (event, endpoint). With no subscriber it writes nothing: a scan of the (small) endpoints
 * table. Text and parameters are fixed in shape, so the decision path can prepare it once.
 */
const EVENTS = `SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(id uuid, type text, occurred_at timestamptz, data jsonb)`;
/**
 * spend.threshold_crossed events of a decision batch, kept only where the batch's own write
 * recorded the crossing (the once-per-window row names the crossing action): the batch
 * computes crossings before it knows which ones an earlier action already recorded.
 */
const RECORDED_CROSSINGS = `${EVENTS} WHERE EXISTS (SELECT 1 FROM spend_threshold_crossings c
      WHERE c.policy_id = (e.data->>'policyId')::uuid AND c.cap_id = e.data->>'capId' AND c.counter_key = e.data->>'counter'
        AND c.threshold = (e.data->>'threshold')::int AND c.action_id = (e.data->>'actionId')::uuid)`;
const text = (events: string) => `
  WITH ev AS (
    ${events}
  ), fan AS (
    SELECT ev.id AS event_id, ev.occurred_at, ep.id AS endpoint_id
    FROM ev JOIN webhook_endpoints ep ON ep.enabled AND ev.type = ANY(ep.event_types)
  ), stored AS (
    INSERT INTO webhook_events (id, type, occurred_at, data)
    SELECT id, type, occurred_at, data FROM ev WHERE id IN (SELECT event_id FROM fan)
    RETURNING id
  ), queued AS (
    INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt_at, created_at)
    SELECT event_id, endpoint_id, 'PENDING', 0, occurred_at, occurred_at FROM fan
    RETURNING id
  )
  SELECT (SELECT count(*) FROM stored)::text AS events, (SELECT count(*) FROM queued)::text AS deliveries`;
const TEXT = text(EVENTS);
const CROSSINGS_TEXT = text(RECORDED_CROSSINGS);

/** The events as the statement's JSON parameter: each with a fresh id (the `webhook-id`). */
function eventRows(events: readonly WebhookEventInput[]): Record<string, unknown>[] {
  return events.map((event) => ({
    id: crypto.randomUUID(),
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    data: jsonSafe(event.data),
  }));
}

/**
 * The outbox write as one raw statement, for transactions sent in flights (db/flights.ts):
 * the JSON parameter is the array itself, cast `::jsonb` in the text.
 */
export function webhookEventsStatement(events: readonly WebhookEventInput[]): Statement {
  return { text: TEXT, params: [eventRows(events)] };
}

/**
 * spend.threshold_crossed events (webhook-payloads.ts) for the flight after a decision
 * write: only those whose crossing that write recorded are stored (RECORDED_CROSSINGS).
 */
export function crossingEventsStatement(events: readonly WebhookEventInput[]): Statement {
  return { text: CROSSINGS_TEXT, params: [eventRows(events)] };
}

/** A flight statement as drizzle SQL: `$n` bound to its parameter, JSON ones as JSON text. */
function asDrizzleSql(statement: Statement): SQL {
  const parts = statement.text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, index) => {
    if (index % 2 === 0) {
      chunks.push(sql.raw(part));
      return;
    }
    const value = statement.params[Number(part) - 1];
    chunks.push(sql`${value !== null && typeof value === "object" ? JSON.stringify(value) : value}`);
  });
  return sql.join(chunks);
}

/** Writes the events (and their deliveries) with the caller's transaction. */
export async function enqueueWebhookEvents(tx: DbOrTx, events: readonly WebhookEventInput[]): Promise<void> {
  if (events.length === 0) return;
  await tx.execute(asDrizzleSql(webhookEventsStatement(events)));
}
