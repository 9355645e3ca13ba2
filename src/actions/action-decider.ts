import crypto from "node:crypto";
import type { AgentPrincipal } from "../auth/principal";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import { AppError, ConflictError, PolicyDeniedError, ServiceUnavailableError } from "../errors/errors";
import { countersFor } from "../policy/counters";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import type { ActionRequest } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import { checkActionInput, type ActionInput, type CheckedActionInput } from "./action-input";
import { decisionAuditEntry } from "./action-audit";
import { auditAppendCall } from "../audit/audit-recorder";
import { findByIdempotencyKey, insertDecided, type ActionRow } from "./action.repository";
import type { ChainCache } from "./chain-cache";
import { buildDecisionRecord, publicReasons, type PublicReason } from "./decision-record";
import { lockCounters, readSpend } from "./spend-ledger";

export interface ActionTimeouts {
  reservationTtlMs: number;
  approvalTtlMs: number;
}

/** The action decided now, or (replayed) the first decision of its idempotency key. */
export interface Submitted {
  row: ActionRow;
  replayed: boolean;
}

/**
 * Fail closed: when the chain, the ledger or the audit cannot be reached the action is not
 * decided, so it is refused as SERVICE_UNAVAILABLE (the agent may retry with its key), never
 * let through. Typed errors pass as they are.
 */
export function failClosed(error: unknown): Error {
  if (error instanceof AppError) return error;
  return new ServiceUnavailableError("The spend ledger cannot be reached: the action was not decided; retry later", { cause: error });
}

/** Thrown inside the transaction when a concurrent retry with the same key won: roll back. */
class DuplicateSubmission extends Error {}

const STATUS_OF = { ALLOWED: "RESERVED", PENDING_APPROVAL: "PENDING_APPROVAL", DENIED: "DENIED" } as const;

export function deniedError(row: Pick<ActionRow, "id" | "action" | "reasons">): PolicyDeniedError {
  const reasons = row.reasons as PublicReason[];
  const first = reasons[0]?.message ?? "Denied by policy";
  return new PolicyDeniedError(`Action '${row.action}' denied: ${first}`, row.id, reasons);
}

/**
 * The policy middleware's core: decides an agent's action and, when allowed, reserves its
 * estimate on every counter, in one transaction:
 *
 * 1. lock the fifteen counters of the request (created if new) in key order;
 * 2. evaluate the agent's chain against that spend, at the clock's now;
 * 3. write the action with its decision record, the reservation and the audit row, in one
 *    statement (insertDecided): the counter locks are held for two round trips and the commit.
 *
 * Two actions that share a counter are therefore decided one after the other, each on the
 * spend the other left: a cap's last room goes to one of them, on one process or many. A
 * retry with the same idempotency key returns the first decision (a denial is refused again
 * with the same decision id) and charges nothing more; with other input it is a CONFLICT.
 * Any failure of the database aborts the whole decision: nothing is allowed unchecked.
 */
export function createActionDecider(deps: { db: Db; clock: Clock; chains: ChainCache; timeouts: ActionTimeouts }) {
  const { db, clock, chains, timeouts } = deps;

  function replayed(existing: ActionRow, input: CheckedActionInput): Submitted {
    if (existing.inputHash !== input.inputHash) {
      throw new ConflictError("This idempotency key was already used for a different action", "idempotencyKey");
    }
    if (existing.outcome === "DENIED") throw deniedError(existing);
    return { row: existing, replayed: true };
  }

  async function requestFor(agent: AgentPrincipal, input: CheckedActionInput) {
    const { chain, ownerRoles } = await chains.get({ id: agent.agentId, ownerId: agent.ownerId });
    const request: ActionRequest = {
      agentId: agent.agentId,
      ownerId: agent.ownerId,
      ownerRoles,
      action: input.action,
      resource: input.resource,
      estimatedCost: input.estimatedCost,
    };
    return { chain, request };
  }

  async function decide(agent: AgentPrincipal, input: CheckedActionInput, meta: RequestMeta): Promise<ActionRow> {
    const { chain, request } = await requestFor(agent, input);
    return db.transaction(async (tx) => {
      const now = clock.now();
      const spend = await lockCounters(tx, countersFor(request, now), now);
      const decision = evaluate(chain, request, spend, now);
      const allowed = decision.outcome === "ALLOWED";
      // Every counter of the request is charged, capped or not (see policy/counters.ts).
      const keys = allowed ? [...spend.keys()] : [];
      const ttl = allowed ? timeouts.reservationTtlMs : decision.outcome === "PENDING_APPROVAL" ? timeouts.approvalTtlMs : null;
      const row: ActionRow = {
        id: crypto.randomUUID(),
        agentId: agent.agentId,
        ownerId: agent.ownerId,
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
        record: buildDecisionRecord(request, spend, decision, now) as unknown as Record<string, unknown>,
        counterKeys: keys,
        reserved: allowed ? input.estimatedCost : 0n,
        overrun: false,
        decidedAt: now,
        expiresAt: ttl === null ? null : new Date(now.getTime() + ttl),
        resolvedAt: null,
        resolvedBy: null,
      };
      const inserted = await insertDecided(tx, row, auditAppendCall(meta, decisionAuditEntry(row, decision, now)));
      if (!inserted) throw new DuplicateSubmission();
      return row;
    });
  }

  return {
    /** Decides, reserves when allowed, records; DENIED is thrown as POLICY_DENIED after the commit. */
    async submit(agent: AgentPrincipal, raw: ActionInput, meta: RequestMeta): Promise<Submitted> {
      const input = checkActionInput(raw);
      if (input.idempotencyKey !== null) {
        const existing = await findByIdempotencyKey(db, agent.agentId, input.idempotencyKey).catch((error: unknown) => {
          throw failClosed(error);
        });
        if (existing) return replayed(existing, input);
      }
      let row: ActionRow;
      try {
        row = await decide(agent, input, meta);
      } catch (error) {
        if (!(error instanceof DuplicateSubmission) || input.idempotencyKey === null) throw failClosed(error);
        const winner = await findByIdempotencyKey(db, agent.agentId, input.idempotencyKey);
        if (!winner) throw error;
        return replayed(winner, input);
      }
      if (row.outcome === "DENIED") throw deniedError(row);
      return { row, replayed: false };
    },

    /** The decision the action would get now; reads spend without locking, writes nothing. */
    async simulate(agent: Pick<AgentPrincipal, "agentId" | "ownerId">, raw: ActionInput): Promise<{ decision: Decision; at: Date }> {
      const input = checkActionInput(raw);
      const { chain, request } = await requestFor(agent as AgentPrincipal, input);
      const now = clock.now();
      const spend = await readSpend(db, countersFor(request, now).map((spec) => spec.key));
      return { decision: evaluate(chain, request, spend, now), at: now };
    },
  };
}

export type ActionDecider = ReturnType<typeof createActionDecider>;
