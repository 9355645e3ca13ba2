import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * Registered receivers. Platform-wide: an endpoint receives every event of the types it
 * subscribes to. The signing secret is kept sealed (AES-256-GCM, crypto/secret-box.ts):
 * signing needs the secret itself, so it cannot be hashed; it is shown once, at creation or
 * rotation.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: uuid("id").primaryKey().defaultRandom(),
  url: text("url").notNull(),
  description: text("description"),
  eventTypes: text("event_types").array().notNull(),
  secretSealed: text("secret_sealed").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The outbox: one row per event that at least one endpoint subscribed to when it happened,
 * written in the transaction of the change it reports (src/webhooks/webhook-events.ts).
 * Its id is the `webhook-id` every delivery of it carries, for receivers to deduplicate.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: uuid("id").primaryKey(),
    type: text("type").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  },
  (table) => [index("webhook_events_occurred_idx").on(table.occurredAt)],
);

export const webhookDeliveryStatus = pgEnum("webhook_delivery_status", ["PENDING", "SUCCEEDED", "FAILED"]);

/**
 * One event to one endpoint. PENDING until a 2xx answer (SUCCEEDED) or the last allowed
 * attempt (FAILED; a person may re-send it). A worker claims a due row by setting
 * `lease_until` and a fresh `claim_id` (FOR UPDATE SKIP LOCKED): no other process takes it
 * while the lease runs, and a claimer that died leaves it to be taken again once it lapses.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    eventId: uuid("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    status: webhookDeliveryStatus("status").notNull().default("PENDING"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    claimId: uuid("claim_id"),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    index("webhook_deliveries_due_idx").on(table.nextAttemptAt).where(sql`${table.status} = 'PENDING'`),
    index("webhook_deliveries_created_idx").on(table.createdAt, table.id),
    index("webhook_deliveries_endpoint_idx").on(table.endpointId, table.createdAt),
    index("webhook_deliveries_event_idx").on(table.eventId),
  ],
);

/** Every attempt of a delivery, for the delivery log: when, what came back, how long it took. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    responseStatus: integer("response_status"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (table) => [index("webhook_attempts_delivery_idx").on(table.deliveryId, table.attempt)],
);
