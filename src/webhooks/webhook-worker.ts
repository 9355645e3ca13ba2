import type { Observe } from "../http/metrics";
import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { SecretBox } from "../crypto/secret-box";
import type { Db } from "../db/database";
import type { Logger } from "../logging/logger";
import { SYSTEM_REQUEST } from "../request-meta";
import { retryDelayMs, type RetrySchedule } from "./webhook-retry";
import { sendWebhook, type AttemptResult, type Resolver } from "./webhook-sender";
import { webhookBody, webhookHeaders } from "./webhook-signature";
import { claimDue, claimedWork, recordAttempt } from "./webhook.repository";
import type { TargetPolicy } from "./url-guard";

export interface WebhookWorkerOptions extends RetrySchedule {
  pollIntervalMs: number;
  timeoutMs: number;
  maxAttempts: number;
  concurrency: number;
  policy: TargetPolicy;
}

export interface WebhookWorker {
  /** Claims what is due and sends it; resolves once those sends are recorded. For tests and the poll loop. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

type Work = Awaited<ReturnType<typeof claimedWork>>[number];

/**
 * The outbox's delivery worker; every process runs one. Each tick claims due deliveries for
 * the free slots (at most `concurrency` sends at once, each with its own deadline, so a slow
 * endpoint holds one slot and never the rest), sends them signed, and records each attempt:
 * a 2xx is SUCCEEDED; anything else is retried after an exponential, jittered wait until the
 * last allowed attempt, which is FAILED (audited; a person may re-send it).
 *
 * Claims are leases (webhook.repository.ts, claimDue): longer than an attempt can take, so a
 * live claimer always records before its lease lapses; a claimer that died leaves its rows
 * to be claimed again when it does. Delivery is at least once: a receiver deduplicates on
 * `webhook-id`. On stop, sends in flight are abandoned and their claims given back.
 */
export function startWebhookWorker(deps: {
  db: Db;
  box: SecretBox;
  clock: Clock;
  logger: Logger;
  options: WebhookWorkerOptions;
  resolve?: Resolver;
  /** Counts deliveries that used their last attempt (metrics). */
  observe?: Observe;
}): WebhookWorker {
  const { db, box, clock, logger, options } = deps;
  const leaseMs = options.timeoutMs + 60_000;
  const stopping = new AbortController();
  const claims = new Set<string>();
  const sends = new Set<Promise<void>>();
  let claiming = false;

  async function deliver(work: Work, claimId: string): Promise<void> {
    const { delivery, event, endpoint } = work;
    const body = webhookBody({ id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.data });
    let result: AttemptResult;
    const at = clock.now();
    try {
      result = await sendWebhook(endpoint.url, webhookHeaders(box.open(endpoint.secretSealed), event.id, at, body), body, {
        policy: options.policy,
        timeoutMs: options.timeoutMs,
        resolve: deps.resolve,
        signal: stopping.signal,
      });
    } catch {
      result = { ok: false, status: null, error: "the endpoint's secret cannot be opened (WEBHOOK_ENCRYPTION_KEY changed?)", durationMs: 0 };
    }
    if (stopping.signal.aborted) return;
    const number = delivery.attempts + 1;
    const final = !result.ok && number >= options.maxAttempts;
    const status = result.ok ? "SUCCEEDED" : final ? "FAILED" : "PENDING";
    const nextAttemptAt = status === "PENDING" ? new Date(clock.now().getTime() + retryDelayMs(number, options, Math.random())) : at;
    const failedForGood = await db.transaction(async (tx) => {
      const recorded = await recordAttempt(tx, { deliveryId: delivery.id, claimId }, { number, at, ...result }, { status, nextAttemptAt });
      if (recorded && final) {
        await recordAudit(tx, SYSTEM_REQUEST, {
          actor: { type: "system" },
          action: AuditAction.WEBHOOK_DELIVERY_FAILED,
          outcome: "failure",
          target: { type: "webhook_delivery", id: delivery.id },
          details: { endpointId: endpoint.id, eventId: event.id, eventType: event.type, attempts: number, lastError: result.error, lastStatus: result.status },
          at,
        });
      }
      return Boolean(recorded && final);
    });
    if (failedForGood) deps.observe?.("webhook_delivery_failed");
    if (!result.ok) logger.info({ deliveryId: delivery.id, endpointId: endpoint.id, attempt: number, status: result.status, error: result.error }, "webhook attempt failed");
  }

  function track(promise: Promise<void>): Promise<void> {
    const tracked = promise
      .catch((err: unknown) => logger.warn({ err }, "recording a webhook attempt failed; the delivery is retried after its lease"))
      .finally(() => sends.delete(tracked));
    sends.add(tracked);
    return tracked;
  }

  /** Claims what is due for the free slots and starts sending it; returns the sends. */
  async function claim(): Promise<Promise<void>[]> {
    const free = options.concurrency - sends.size;
    if (claiming || free <= 0 || stopping.signal.aborted) return [];
    claiming = true;
    try {
      const now = clock.now();
      const claimId = crypto.randomUUID();
      const ids = await claimDue(db, now, new Date(now.getTime() + leaseMs), claimId, free);
      if (ids.length === 0) return [];
      claims.add(claimId);
      const batch = (await claimedWork(db, ids)).map((item) => track(deliver(item, claimId)));
      void Promise.allSettled(batch).then(() => claims.delete(claimId));
      return batch;
    } finally {
      claiming = false;
    }
  }

  async function runOnce(): Promise<number> {
    const batch = await claim();
    await Promise.allSettled(batch);
    return batch.length;
  }

  const timer =
    options.pollIntervalMs > 0
      ? setInterval(() => {
          claim().catch((err: unknown) => logger.warn({ err }, "claiming webhook deliveries failed; retrying next interval"));
        }, options.pollIntervalMs)
      : undefined;
  timer?.unref();

  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...sends]);
      if (claims.size === 0) return;
      // Give back what was claimed and not recorded: the next process sends it without waiting for the lease.
      await db
        .execute(sql`UPDATE webhook_deliveries SET lease_until = NULL, claim_id = NULL WHERE claim_id IN (${sql.join([...claims].map((id) => sql`${id}::uuid`), sql`, `)})`)
        .catch((err: unknown) => logger.warn({ err }, "giving back webhook claims failed; they are retried after their lease"));
    },
  };
}
