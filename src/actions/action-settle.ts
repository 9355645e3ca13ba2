import type { ActionCrossing } from "./decision-statements";
import { AuditAction } from "../audit/audit-actions";
import type { AgentPrincipal } from "../auth/principal";
import type { Tx } from "../db/database";
import { SettleRefusedError } from "../errors/errors";
import { decisionCounters } from "../policy/counters";
import { evaluate } from "../policy/evaluator";
import type { ActionRequest, Money } from "../policy/policy-types";
import {
  checkSettle,
  loadSettleBound,
  settleBound,
  settleCaps,
  type SettleBound,
  type SettleRefusal,
  type StoredSettleBound,
} from "../policy/settle-bound";
import type { PolicyService } from "../policies/policy.service";
import type { RequestMeta } from "../request-meta";
import { auditStep } from "./action-audit";
import { updateAction, type ActionRow } from "./action.repository";
import { requestOf, type DecisionRecord } from "./decision-record";
import { lockCounters, lockExisting, settle } from "./spend-ledger";

/** A step that changed the action and must commit before the caller hears it failed. */
/** A step's result: the row, an error to throw after the commit, thresholds to announce after it. */
export type Outcome = { row: ActionRow; error?: Error; crossings?: ActionCrossing[] };

/** What the settle writes into the action's record beside its decision. */
export interface Settlement {
  at: string;
  /** Settled after expiry had released the reservation: decided against the caps again. */
  late: boolean;
  ceiling: string;
}

type RecordWithBound = DecisionRecord & { settleBound?: StoredSettleBound; approval?: DecisionRecord; settlement?: Settlement };

/** Whether a settled action was settled late (read by the API's AgentAction.settledLate). */
export function settledLate(row: Pick<ActionRow, "record">): boolean {
  return (row.record as unknown as RecordWithBound | null)?.settlement?.late === true;
}

/** The refusal as a POLICY_DENIED reason: the bound, and the cap it names, as fields. */
function refusalReason(refusal: SettleRefusal) {
  const cap = refusal.cap;
  return {
    code: "SETTLE_OVER_BOUND",
    message: refusal.message,
    cost: refusal.requested.toString(),
    ...(refusal.source && refusal.source.kind !== "DEFAULT" ? { policyId: refusal.source.policyId, policyVersion: refusal.source.policyVersion, ruleId: refusal.source.ruleId } : {}),
    ...(cap
      ? {
          policyId: cap.policyId,
          policyVersion: cap.policyVersion,
          capId: cap.capId,
          per: cap.per,
          window: cap.window,
          counter: cap.key,
          limit: cap.limit.toString(),
          spent: (refusal.spent ?? 0n).toString(),
        }
      : {}),
  };
}

/**
 * Settles a RESERVED action, or an EXPIRED one late (the policy model in README). The
 * caller holds the action's row lock; counters are locked after it in key order, as every
 * step of an action's life does (a late settle locks the counters of now, created if new,
 * exactly as a decision or an approval).
 *
 * - On time: the bound recorded with the decision (settle-bound.ts), against the spend of
 *   now on the counters the action holds its reservation on.
 * - Late: the reservation was released, so the cost is a new charge: it lands on the
 *   counters of now and must fit the chain's caps of now (and the recorded ceiling).
 *
 * Beyond the bound nothing is charged: the refusal is audited and returned as an error, the
 * action keeps its state (a reservation stays held until settled within the bound,
 * cancelled or expired).
 */
export async function settleAction(
  deps: { policies: Pick<PolicyService, "agentChain"> },
  tx: Tx,
  agent: AgentPrincipal,
  row: ActionRow,
  actualCost: Money,
  now: Date,
  meta: RequestMeta,
): Promise<Outcome> {
  const record = row.record as unknown as RecordWithBound;
  const late = row.status === "EXPIRED";
  const chainOf = async () => deps.policies.agentChain({ id: row.agentId, ownerId: row.ownerId }, tx);
  let bound: SettleBound;
  let keys = row.counterKeys;
  let spend: Map<string, Money>;
  if (!late) {
    spend = await lockExisting(tx, keys);
    bound = record.settleBound ? loadSettleBound(record.settleBound) : await legacyBound(record, await chainOf());
  } else {
    const { chain, ownerRoles } = await chainOf();
    const request: ActionRequest = { ...requestOf(record), ownerRoles, estimatedCost: actualCost };
    // A late settle is a new charge of spend: its velocity counters were counted at the decision.
    const specs = decisionCounters(chain, request, now).filter((spec) => spec.measure !== "ACTIONS");
    spend = await lockCounters(tx, specs, now);
    keys = specs.map((spec) => spec.key);
    const recorded = record.settleBound ? loadSettleBound(record.settleBound) : await legacyBound(record, { chain, ownerRoles });
    bound = { ...recorded, caps: settleCaps(evaluate(chain, request, spend, now).caps) };
  }
  const held = late ? 0n : row.reserved;
  const actor = { type: "agent" as const, id: agent.agentId };
  const refusal = checkSettle(bound, spend, held, actualCost);
  if (refusal !== null) {
    const reasons = [refusalReason(refusal)];
    await auditStep(tx, meta, {
      actor,
      action: AuditAction.AGENT_ACTION_SETTLE_REFUSED,
      outcome: "denied",
      row,
      details: { estimatedCost: row.estimatedCost.toString(), held: held.toString(), late, bound: refusal.bound, allowed: refusal.allowed.toString(), requested: actualCost.toString(), reasons },
      at: now,
    });
    const error = new SettleRefusedError(`Settle of '${row.action}' refused: ${refusal.message}`, row.id, { ...refusal, reasons });
    return { row, error };
  }
  await settle(tx, keys, held, actualCost, now);
  const overrun = actualCost > row.estimatedCost;
  const settlement: Settlement = { at: now.toISOString(), late, ceiling: bound.ceiling.toString() };
  const settled = await updateAction(tx, row.id, {
    status: "SETTLED",
    actualCost,
    reserved: 0n,
    overrun,
    counterKeys: keys,
    record: { ...(row.record as Record<string, unknown>), settlement },
    resolvedAt: now,
  });
  await auditStep(tx, meta, {
    actor,
    action: AuditAction.AGENT_ACTION_SETTLED,
    outcome: "success",
    row: settled,
    details: {
      estimatedCost: row.estimatedCost.toString(),
      actualCost: actualCost.toString(),
      released: held.toString(),
      overrun,
      late,
      ceiling: bound.ceiling.toString(),
      counters: keys,
    },
    at: now,
  });
  return { row: settled };
}

/**
 * An action decided before bounds were recorded: its bound from the chain of now, with the
 * caps and counters of the instant it reserved at (its approval, else its decision).
 */
async function legacyBound(record: RecordWithBound, current: { chain: Parameters<typeof evaluate>[0]; ownerRoles: string[] }): Promise<SettleBound> {
  const request: ActionRequest = { ...requestOf(record), ownerRoles: current.ownerRoles };
  const at = new Date(record.approval?.at ?? record.at);
  return settleBound(current.chain, request, evaluate(current.chain, request, new Map(), at).caps);
}
