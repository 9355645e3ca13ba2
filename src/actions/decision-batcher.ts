import crypto from "node:crypto";
import { inArray } from "drizzle-orm";
import { auditLines } from "../audit/audit-recorder";
import type { AuditEntry } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { FlightDb, FlightTx } from "../db/flights";
import { agentActions } from "../db/schema";
import { decisionCounters, type CounterSpec } from "../policy/counters";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import type { ChainInput } from "../policy/policy-chain";
import type { ActionRequest, Money } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import type { CheckedActionInput } from "./action-input";
import { decisionAuditEntry } from "./action-audit";
import type { ActionRow } from "./action.repository";
import { buildDecisionRecord, publicReasons } from "./decision-record";
import {
  actionCrossings,
  existingKeysStatement,
  lockCountersStatement,
  recordedCrossings,
  writeDecisionsStatement,
  type ActionCrossing,
} from "./decision-statements";
import { settleBound, storeSettleBound } from "../policy/settle-bound";
import { createCounterLocks } from "./spend-ledger";
import { actionPendingApproval, spendThresholdCrossed } from "../webhooks/webhook-payloads";
import { crossingEventsStatement, webhookEventsStatement } from "../webhooks/webhook-events";

export interface ActionTimeouts {
  reservationTtlMs: number;
  approvalTtlMs: number;
}

/** One action waiting for its decision (the agent and owner are the request's). */
export interface PendingDecision {
  input: CheckedActionInput;
  /** Prepared once per cached chain (chain-cache.ts), so deciding does no sorting or splitting. */
  chain: ChainInput;
  request: ActionRequest;
  meta: RequestMeta;
}

/** What became of it: decided now, or an earlier action with the same idempotency key. */
export type BatchResult = { kind: "decided"; row: ActionRow } | { kind: "existing"; row: ActionRow };

const MAX_BATCH = 64;
/**
 * Batches in flight per process. One: the next batch takes everything that arrived while this
 * one ran. Two (one committing while the next one's lock waits in PostgreSQL) halved the
 * batches, and on a machine whose cores are busy the extra transactions cost more than the
 * overlap saves (README, design notes).
 */
const MAX_IN_FLIGHT = 1;
const STATUS_OF = { ALLOWED: "RESERVED", PENDING_APPROVAL: "PENDING_APPROVAL", DENIED: "DENIED" } as const;
const idempotencyId = (agentId: string, key: string) => `${agentId}\u0000${key}`;

/** A counter row the batch needs is missing (see createCounterLocks). */
class MissingCounters extends Error {}

/**
 * Group commit for decisions. Every allowed action charges the GLOBAL counters, so decisions
 * cannot run side by side: each one has to read the spend the previous one left. Taking
 * them one transaction at a time would hold the hot counter locks for several round trips
 * per action. Instead each process queues its actions and decides them in batches, each
 * batch one transaction sent in two flights (db/flights.ts): BEGIN, the lock of the whole
 * batch's counters (in key order) and the idempotency lookup travel together; the actions
 * are decided in arrival order, each on the spend the ones before it left (so a cap's last
 * room goes to one action); every action, every charge, every audit row and COMMIT travel
 * together. The hot locks are held for one turnaround of this process. One batch is in
 * flight at a time: an idle process decides an action at once (a batch of one); under load,
 * the next batch is whatever arrived while the last one ran. Processes exclude each other
 * through the same row locks, so while one process turns around, another's batch has them.
 *
 * Idempotency keys are checked under the counter locks: a concurrent transaction with the
 * same agent and key must lock the same AGENT counters, so it has committed (and is seen) or
 * has not started. Within a batch, a repeated key is decided once.
 */
export function createDecisionBatcher(deps: {
  db: Db;
  flights: FlightDb;
  clock: Clock;
  timeouts: ActionTimeouts;
  /** Told after the commit about the cap thresholds this batch crossed first in their window. */
  onCrossings?: (crossings: readonly ActionCrossing[]) => void;
  /** Told after the commit the outcome of every action the batch decided (not the replayed ones). */
  onDecided?: (outcomes: readonly string[]) => void;
}) {
  const { db, flights, clock, timeouts } = deps;
  const queue: { pending: PendingDecision; resolve: (result: BatchResult) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  const counterLocks = createCounterLocks(db);

  function actionRow(item: PendingDecision, decision: Decision, spend: ReadonlyMap<string, Money>, counters: readonly CounterSpec[], now: Date): ActionRow {
    const { input, request } = item;
    const allowed = decision.outcome === "ALLOWED";
    const ttl = allowed ? timeouts.reservationTtlMs : decision.outcome === "PENDING_APPROVAL" ? timeouts.approvalTtlMs : null;
    return {
      id: crypto.randomUUID(),
      agentId: request.agentId,
      ownerId: request.ownerId,
      action: input.action,
      resource: input.resource,
      estimatedCost: input.estimatedCost,
      actualCost: null,
      metadata: input.metadata,
      idempotencyKey: input.idempotencyKey,
      inputHash: input.inputHash,
      outcome: decision.outcome,
      status: STATUS_OF[decision.outcome],
      shadowOutcome: decision.wouldBe?.outcome ?? null,
      reasons: publicReasons(decision),
      record: {
        ...(buildDecisionRecord(request, spend, decision, now, counters) as unknown as Record<string, unknown>),
        // How far a settle may go, fixed by the chain the action was decided under.
        ...(allowed ? { settleBound: storeSettleBound(settleBound(item.chain, request, decision.caps)) } : {}),
      },
      // Every spend counter of the request is charged, capped or not (see policy/counters.ts);
      // its velocity counters are not listed: their count is final, nothing releases it.
      counterKeys: allowed ? counters.filter((spec) => spec.measure !== "ACTIONS").map((spec) => spec.key) : [],
      reserved: allowed ? input.estimatedCost : 0n,
      overrun: false,
      decidedAt: now,
      expiresAt: ttl === null ? null : new Date(now.getTime() + ttl),
      resolvedAt: null,
      resolvedBy: null,
      runId: request.runId ?? null,
    };
  }

  /**
   * The batch's transaction, in two flights (db/flights.ts): BEGIN, the counter locks and the
   * idempotency lookup travel together; the decisions are taken on what they return; the
   * writes and COMMIT travel together. `countersOf[i]`: the counters of `batch[i]` at `now`,
   * the instant the whole batch is decided at; `keys`: their union.
   */
  async function decideBatch(
    tx: FlightTx,
    batch: readonly PendingDecision[],
    countersOf: readonly (readonly CounterSpec[])[],
    keys: readonly string[],
    now: Date,
  ): Promise<{ results: BatchResult[]; crossings: ActionCrossing[] }> {
    const keyed = batch.flatMap((item) =>
      item.input.idempotencyKey === null ? [] : [{ agentId: item.request.agentId, key: item.input.idempotencyKey }],
    );
    const [locked = [], found = []] = await tx.flight([lockCountersStatement(keys), ...(keyed.length > 0 ? [existingKeysStatement(keyed)] : [])]);
    if (locked.length !== keys.length) throw new MissingCounters();
    const spend = new Map(locked.map((row) => [String(row.key), BigInt(String(row.spend))]));
    // An earlier action of the key: its id when it committed before, its row when decided in this batch.
    const earlier = new Map<string, string | ActionRow>(found.map((row) => [idempotencyId(String(row.agent_id), String(row.idempotency_key)), String(row.id)]));

    const results: (BatchResult | { kind: "existing"; id: string })[] = [];
    const rows: ActionRow[] = [];
    const audits: { meta: RequestMeta; entry: AuditEntry }[] = [];
    const charges = new Map<string, { amount: Money; count: Money }>();
    const crossings: ActionCrossing[] = [];
    batch.forEach((item, index) => {
      const id = item.input.idempotencyKey === null ? null : idempotencyId(item.request.agentId, item.input.idempotencyKey);
      const existing = id === null ? undefined : earlier.get(id);
      if (existing !== undefined) {
        results.push(typeof existing === "string" ? { kind: "existing", id: existing } : { kind: "existing", row: existing });
        return;
      }
      const counters = countersOf[index] ?? [];
      const view = new Map(counters.map((spec) => [spec.key, spend.get(spec.key) ?? 0n]));
      const decision = evaluate(item.chain, item.request, view, now);
      const row = actionRow(item, decision, view, counters, now);
      if (decision.outcome === "ALLOWED") {
        for (const spec of counters) {
          const counted = spec.measure === "ACTIONS";
          const added = counted ? 1n : row.estimatedCost;
          spend.set(spec.key, (spend.get(spec.key) ?? 0n) + added);
          const sum = charges.get(spec.key) ?? { amount: 0n, count: 0n };
          charges.set(spec.key, counted ? { ...sum, count: sum.count + 1n } : { ...sum, amount: sum.amount + added });
        }
        crossings.push(...actionCrossings(decision.caps, row));
      }
      if (id !== null) earlier.set(id, row);
      rows.push(row);
      audits.push({ meta: item.meta, entry: decisionAuditEntry(row, decision, now) });
      results.push({ kind: "decided", row });
    });
    // Held actions are announced (action.pending_approval) in the same flight, so with the same commit.
    const held = rows.filter((row) => row.status === "PENDING_APPROVAL").map((row) => actionPendingApproval(row, now));
    const events = held.length > 0 ? [webhookEventsStatement(held)] : [];
    if (crossings.length > 0) events.push(crossingEventsStatement(crossings.map((crossing) => spendThresholdCrossed(crossing, now))));
    let recorded: ActionCrossing[] = [];
    if (rows.length > 0) {
      const [written = []] = await tx.flight([writeDecisionsStatement(rows, charges, now, auditLines(audits), crossings), ...events], { commit: true });
      recorded = crossings.length === 0 ? [] : recordedCrossings(crossings, written[0]?.crossed);
    }
    return { results: await existingRows(results), crossings: recorded };
  }

  /** Reads the committed actions a batch found by idempotency key (after its commit: rare). */
  async function existingRows(results: readonly (BatchResult | { kind: "existing"; id: string })[]): Promise<BatchResult[]> {
    const ids = results.flatMap((result) => ("id" in result ? [result.id] : []));
    if (ids.length === 0) return results as BatchResult[];
    const found = new Map((await db.select().from(agentActions).where(inArray(agentActions.id, ids))).map((row) => [row.id, row]));
    return results.map((result) => ("id" in result ? { kind: "existing", row: found.get(result.id) as ActionRow } : result));
  }

  async function run(batch: typeof queue): Promise<void> {
    const pending = batch.map((entry) => entry.pending);
    const now = clock.now();
    const countersOf = pending.map((item) => decisionCounters(item.chain, item.request, now));
    const specs = [...new Map(countersOf.flat().map((spec) => [spec.key, spec])).values()];
    const keys = specs.map((spec) => spec.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    await counterLocks.ensure(specs);
    let decided: Awaited<ReturnType<typeof decideBatch>>;
    try {
      decided = await flights.transaction((tx) => decideBatch(tx, pending, countersOf, keys, now));
    } catch (error) {
      if (!(error instanceof MissingCounters)) throw error;
      // A counter this process believed created is not there: create it, then decide again.
      counterLocks.forget(specs);
      await counterLocks.ensure(specs);
      decided = await flights.transaction((tx) => decideBatch(tx, pending, countersOf, keys, now));
    }
    const { results, crossings } = decided;
    batch.forEach((entry, index) => entry.resolve(results[index] as BatchResult));
    if (crossings.length > 0) deps.onCrossings?.(crossings);
    deps.onDecided?.(results.flatMap((result) => (result.kind === "decided" ? [result.row.outcome] : [])));
  }

  /** Runs a batch; if it fails, decides its actions one by one (one row cannot fail the others). */
  async function settleBatch(batch: typeof queue): Promise<void> {
    try {
      await run(batch);
    } catch {
      for (const entry of batch) await run([entry]).catch((error: unknown) => entry.reject(error));
    }
  }

  function drain(): void {
    while (queue.length > 0 && inFlight < MAX_IN_FLIGHT) {
      const batch = queue.splice(0, MAX_BATCH);
      inFlight += 1;
      void settleBatch(batch).finally(() => {
        inFlight -= 1;
        drain();
      });
    }
  }

  return {
    /** Resolves once the action's batch has committed (rejects when it could not). */
    decide(pending: PendingDecision): Promise<BatchResult> {
      return new Promise((resolve, reject) => {
        queue.push({ pending, resolve, reject });
        drain();
      });
    },
  };
}
