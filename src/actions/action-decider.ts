import type { AgentPrincipal } from "../auth/principal";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { FlightDb } from "../db/flights";
import { AppError, ConflictError, PolicyDeniedError, ServiceUnavailableError } from "../errors/errors";
import { decisionCounters } from "../policy/counters";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import type { ActionRequest } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import { createRunGate, finishedRunRefusal } from "../runs/run-gate";
import { checkActionInput, type ActionInput, type CheckedActionInput } from "./action-input";
import { findByIdempotencyKey, type ActionRow } from "./action.repository";
import { createDecisionBatcher, type ActionTimeouts } from "./decision-batcher";
import type { ActionCrossing } from "./decision-statements";
import type { ChainCache } from "./chain-cache";
import type { PublicReason } from "./decision-record";
import { readSpend } from "./spend-ledger";
import { redactReasons, spendSight, type SpendSight } from "./spend-privacy";

/** The submitting agent sees no platform-wide spend. */
const AGENT_SIGHT = spendSight({ kind: "agent" });

/** The action decided now, or (replayed) the first decision of its idempotency key. */
export interface Submitted {
  row: ActionRow;
  replayed: boolean;
}

/** POLICY_DENIED for `row`, its reasons as the viewer (`sight`) may see them (spend-privacy.ts). */
export function deniedError(row: Pick<ActionRow, "id" | "action" | "reasons">, sight: SpendSight): PolicyDeniedError {
  const reasons = redactReasons(row.reasons as PublicReason[], sight);
  const first = reasons[0]?.message ?? "Denied by policy";
  return new PolicyDeniedError(`Action '${row.action}' denied: ${first}`, row.id, reasons);
}

/**
 * Fail closed: when the chain, the ledger or the audit cannot be reached the action is not
 * decided, so it is refused as SERVICE_UNAVAILABLE (the agent may retry with its key), never
 * let through. Typed errors pass as they are.
 */
export function failClosed(error: unknown): Error {
  if (error instanceof AppError) return error;
  // The run was finished between the check and the insert (run-gate.ts): refused, typed.
  const runFinished = finishedRunRefusal(error);
  if (runFinished) return runFinished;
  return new ServiceUnavailableError("The spend ledger cannot be reached: the action was not decided; retry later", { cause: error });
}

/**
 * The policy middleware's core: decides an agent's action and, when allowed, reserves its
 * estimate on every counter, in one transaction (decision-batcher.ts, which groups the
 * actions of concurrent requests):
 *
 * 1. lock the fifteen counters of the request (created if new) in key order;
 * 2. evaluate the agent's chain against that spend, at the clock's now;
 * 3. write the action with its decision record, the reservation and the audit row.
 *
 * Two actions that share a counter are therefore decided one after the other, each on the
 * spend the other left: a cap's last room goes to one of them, on one process or many. A
 * retry with the same idempotency key returns the first decision (a denial is refused again
 * with the same decision id) and charges nothing more; with other input it is a CONFLICT.
 * Any failure of the database aborts the decision: nothing is allowed unchecked.
 */
export function createActionDecider(deps: {
  db: Db;
  flights: FlightDb;
  clock: Clock;
  chains: ChainCache;
  timeouts: ActionTimeouts;
  onCrossings?: (crossings: readonly ActionCrossing[]) => void;
  onDecided?: (outcomes: readonly string[]) => void;
}) {
  const { db, clock, chains } = deps;
  const batcher = createDecisionBatcher(deps);
  const runGate = createRunGate(db);

  function replayed(existing: ActionRow, input: CheckedActionInput): Submitted {
    if (existing.inputHash !== input.inputHash) {
      throw new ConflictError("This idempotency key was already used for a different action", "idempotencyKey");
    }
    // Denied at submission, or held and then denied when an approver re-decided it.
    if (existing.status === "DENIED") throw deniedError(existing, AGENT_SIGHT);
    return { row: existing, replayed: true };
  }

  async function requestFor(agent: Pick<AgentPrincipal, "agentId" | "ownerId" | "chainStamp">, input: CheckedActionInput) {
    const { prepared: chain, ownerRoles } = await chains.get({ id: agent.agentId, ownerId: agent.ownerId, chainStamp: agent.chainStamp });
    const request: ActionRequest = {
      agentId: agent.agentId,
      ownerId: agent.ownerId,
      ownerRoles,
      action: input.action,
      resource: input.resource,
      estimatedCost: input.estimatedCost,
      runId: input.runId,
    };
    return { chain, request };
  }

  return {
    /** Decides, reserves when allowed, records; DENIED is thrown as POLICY_DENIED after the commit. */
    async submit(agent: AgentPrincipal, raw: ActionInput, meta: RequestMeta): Promise<Submitted> {
      const input = checkActionInput(raw);
      let result;
      try {
        if (input.idempotencyKey !== null) {
          const existing = await findByIdempotencyKey(db, agent.agentId, input.idempotencyKey);
          if (existing) return replayed(existing, input);
        }
        if (input.runId !== null) await runGate.check(agent.agentId, input.runId);
        const { chain, request } = await requestFor(agent, input);
        result = await batcher.decide({ input, chain, request, meta });
      } catch (error) {
        if (input.runId !== null && finishedRunRefusal(error)) runGate.forget(input.runId);
        throw failClosed(error);
      }
      if (result.kind === "existing") return replayed(result.row, input);
      if (result.row.status === "DENIED") throw deniedError(result.row, AGENT_SIGHT);
      return { row: result.row, replayed: false };
    },

    /** The decision the action would get now; reads spend without locking, writes nothing. */
    async simulate(agent: Pick<AgentPrincipal, "agentId" | "ownerId">, raw: ActionInput): Promise<{ decision: Decision; at: Date }> {
      const input = checkActionInput(raw);
      const { chain, request } = await requestFor(agent, input);
      const now = clock.now();
      const spend = await readSpend(db, decisionCounters(chain, request, now).map((spec) => spec.key));
      return { decision: evaluate(chain, request, spend, now), at: now };
    },
  };
}

export type ActionDecider = ReturnType<typeof createActionDecider>;

export type { ActionTimeouts } from "./decision-batcher";
