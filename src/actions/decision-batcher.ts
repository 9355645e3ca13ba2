import crypto from "node:crypto";
import { auditBatchCall } from "../audit/audit-recorder";
import type { AuditEntry } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { countersFor, type CounterSpec } from "../policy/counters";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import type { ChainInput } from "../policy/policy-chain";
import type { ActionRequest, Money } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import type { CheckedActionInput } from "./action-input";
import { decisionAuditEntry } from "./action-audit";
import { findByIdempotencyKeys, insertDecidedBatch, type ActionRow } from "./action.repository";
import { buildDecisionRecord, publicReasons } from "./decision-record";
import { settleBound, storeSettleBound } from "../policy/settle-bound";
import { createCounterLocks } from "./spend-ledger";

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
 * Batches in flight per process. One: a second one would only wait in PostgreSQL for the
 * first one's counter locks (measured: two were no faster; the work, not the round trips,
 * bounds a batch).
 */
const MAX_IN_FLIGHT = 1;
const STATUS_OF = { ALLOWED: "RESERVED", PENDING_APPROVAL: "PENDING_APPROVAL", DENIED: "DENIED" } as const;
const idempotencyId = (agentId: string, key: string) => `${agentId}\u0000${key}`;

/**
 * Group commit for decisions. Every allowed action charges the GLOBAL counters, so decisions
 * cannot run side by side: each one has to read the spend the previous one left. Taking
 * them one transaction at a time would hold the hot counter locks for several round trips
 * per action. Instead each process queues its actions and decides them in batches: one
 * transaction locks the counters of the whole batch (in key order), decides the actions in
 * arrival order, each on the spend the ones before it left (so a cap's last room goes to
 * one action), then writes every action, every charge and every audit row in one
 * statement, and commits. An idle process decides an action at once (a batch of one); under
 * load, batches form while the previous transaction runs. Processes still exclude each
 * other through the row locks.
 *
 * Idempotency keys are checked under the counter locks: a concurrent transaction with the
 * same agent and key must lock the same AGENT counters, so it has committed (and is seen) or
 * has not started. Within a batch, a repeated key is decided once.
 */
export function createDecisionBatcher(deps: { db: Db; clock: Clock; timeouts: ActionTimeouts }) {
  const { db, clock, timeouts } = deps;
  const queue: { pending: PendingDecision; resolve: (result: BatchResult) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  const counterLocks = createCounterLocks(db);

  function actionRow(item: PendingDecision, decision: Decision, spend: ReadonlyMap<string, Money>, keys: string[], now: Date): ActionRow {
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
        ...(buildDecisionRecord(request, spend, decision, now, keys) as unknown as Record<string, unknown>),
        // How far a settle may go, fixed by the chain the action was decided under.
        ...(allowed ? { settleBound: storeSettleBound(settleBound(item.chain, request, decision.caps)) } : {}),
      },
      // Every counter of the request is charged, capped or not (see policy/counters.ts).
      counterKeys: allowed ? keys : [],
      reserved: allowed ? input.estimatedCost : 0n,
      overrun: false,
      decidedAt: now,
      expiresAt: ttl === null ? null : new Date(now.getTime() + ttl),
      resolvedAt: null,
      resolvedBy: null,
    };
  }

  /**
   * `countersOf[i]`: the counters of `batch[i]` at `now`, the instant the whole batch is
   * decided at; `specs`: their union.
   */
  async function decideBatch(
    tx: Tx,
    batch: readonly PendingDecision[],
    countersOf: readonly CounterSpec[][],
    specs: readonly CounterSpec[],
    now: Date,
  ): Promise<BatchResult[]> {
    const spend = await counterLocks.lock(tx, specs, now);

    const keyed = batch.flatMap((item) =>
      item.input.idempotencyKey === null ? [] : [{ agentId: item.request.agentId, key: item.input.idempotencyKey }],
    );
    const earlier = new Map((await findByIdempotencyKeys(tx, keyed)).map((row) => [idempotencyId(row.agentId, row.idempotencyKey ?? ""), row]));

    const results: BatchResult[] = [];
    const rows: ActionRow[] = [];
    const audits: { meta: RequestMeta; entry: AuditEntry }[] = [];
    const charges = new Map<string, Money>();
    batch.forEach((item, index) => {
      const id = item.input.idempotencyKey === null ? null : idempotencyId(item.request.agentId, item.input.idempotencyKey);
      const existing = id === null ? undefined : earlier.get(id);
      if (existing) {
        results.push({ kind: "existing", row: existing });
        return;
      }
      const keys = (countersOf[index] ?? []).map((spec) => spec.key);
      const view = new Map(keys.map((key) => [key, spend.get(key) ?? 0n]));
      const decision = evaluate(item.chain, item.request, view, now);
      const row = actionRow(item, decision, view, keys, now);
      if (decision.outcome === "ALLOWED") {
        for (const key of keys) {
          spend.set(key, (spend.get(key) ?? 0n) + row.estimatedCost);
          charges.set(key, (charges.get(key) ?? 0n) + row.estimatedCost);
        }
      }
      if (id !== null) earlier.set(id, row);
      rows.push(row);
      audits.push({ meta: item.meta, entry: decisionAuditEntry(row, decision, now) });
      results.push({ kind: "decided", row });
    });
    if (rows.length > 0) await insertDecidedBatch(tx, rows, charges, now, auditBatchCall(audits));
    return results;
  }

  async function run(batch: typeof queue): Promise<void> {
    const pending = batch.map((entry) => entry.pending);
    const now = clock.now();
    const countersOf = pending.map((item) => countersFor(item.request, now));
    const specs = [...new Map(countersOf.flat().map((spec) => [spec.key, spec])).values()];
    await counterLocks.ensure(specs);
    const results = await db.transaction((tx) => decideBatch(tx, pending, countersOf, specs, now));
    batch.forEach((entry, index) => entry.resolve(results[index] as BatchResult));
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
