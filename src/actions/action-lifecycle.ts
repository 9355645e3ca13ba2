import { findAgent } from "../agents/agent.repository";
import { AuditAction } from "../audit/audit-actions";
import type { AuditActor } from "../audit/audit-recorder";
import { hasPermission, type AgentPrincipal, type Principal } from "../auth/principal";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors/errors";
import { decisionCounters } from "../policy/counters";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import { settleBound, storeSettleBound } from "../policy/settle-bound";
import type { PolicyService } from "../policies/policy.service";
import { SYSTEM_REQUEST, type RequestMeta } from "../request-meta";
import { isUuid } from "../validation/ids";
import type { ActionTimeouts } from "./action-decider";
import { deniedError } from "./action-decider";
import { checkCost } from "./action-input";
import { approvedDecision, auditStep, decisionDetails } from "./action-audit";
import { dueForExpiry, findAction, heldActionsOfRun, openActionsOf, updateAction, type ActionRow } from "./action.repository";
import { buildDecisionRecord, publicReasons, requestOf, type DecisionRecord } from "./decision-record";
import { settleAction, type Outcome } from "./action-settle";
import { countActions, lockCounters, lockExisting, recordCrossings, reserve, settle } from "./spend-ledger";
import { actionCrossings, type ActionCrossing } from "./decision-statements";
import { checkReason } from "./spend-adjustments";
import { spendSight } from "./spend-privacy";
import { enqueueWebhookEvents } from "../webhooks/webhook-events";
import { actionApproved, actionRejected, spendThresholdCrossed } from "../webhooks/webhook-payloads";


const EXPIRY_BATCH = 100;

/**
 * The life of an action after its decision: settle (the actual cost is charged; an overrun
 * only within the chain's bound, and flagged), cancel (the reservation is released; by the
 * agent, by a person with spend:write, or because the agent was suspended or deleted),
 * approve / reject a held action, and expiry of reservations and holds nobody resolved.
 * Each step locks the action row, then
 * its counters (always in that order, then the audit row last), so steps on one action run
 * one at a time and a counter never goes below what is reserved on it.
 */
export function createActionLifecycle(deps: {
  db: Db;
  clock: Clock;
  policies: Pick<PolicyService, "agentChain">;
  timeouts: ActionTimeouts;
  onCrossings?: (crossings: readonly ActionCrossing[]) => void;
}) {
  const { db, clock, policies, timeouts } = deps;

  /** Runs `step` on the locked action; commits whatever it wrote, then throws its error. */
  async function onAction(id: string, step: (tx: Tx, row: ActionRow, now: Date) => Promise<Outcome>): Promise<ActionRow> {
    if (!isUuid(id)) throw new NotFoundError("No such action");
    const outcome = await db.transaction(async (tx) => {
      const row = await findAction(tx, id, { lock: true });
      if (!row) throw new NotFoundError("No such action");
      return step(tx, row, clock.now());
    });
    if (outcome.crossings && outcome.crossings.length > 0) deps.onCrossings?.(outcome.crossings);
    if (outcome.error) throw outcome.error;
    return outcome.row;
  }

  /**
   * Releases what the action holds and gives it its final `status` (cancel and expiry), with
   * the audit row last. The caller holds the action's row lock.
   */
  async function release(
    tx: Tx,
    row: ActionRow,
    now: Date,
    meta: RequestMeta,
    step: { status: "CANCELLED" | "EXPIRED"; actor: AuditActor; action: AuditAction; details?: Record<string, unknown> },
  ): Promise<ActionRow> {
    await lockExisting(tx, row.counterKeys);
    await settle(tx, row.counterKeys, row.reserved, 0n, now);
    const released = await updateAction(tx, row.id, { status: step.status, reserved: 0n, resolvedAt: now });
    await auditStep(tx, meta, {
      actor: step.actor,
      action: step.action,
      outcome: "success",
      row: released,
      details: { was: row.status, released: row.reserved.toString(), ...step.details },
      at: now,
    });
    return released;
  }

  const expire = (tx: Tx, row: ActionRow, now: Date, meta: RequestMeta) =>
    release(tx, row, now, meta, {
      status: "EXPIRED",
      actor: { type: "system" },
      action: AuditAction.AGENT_ACTION_EXPIRED,
      details: { expiresAt: row.expiresAt?.toISOString() ?? null },
    });

  const isDue = (row: ActionRow, now: Date) =>
    (row.status === "RESERVED" || row.status === "PENDING_APPROVAL") && row.expiresAt !== null && row.expiresAt <= now;

  function ownAction(agent: AgentPrincipal, row: ActionRow): void {
    if (row.agentId !== agent.agentId) throw new NotFoundError("No such action");
  }

  async function resolveHold(actor: Principal, id: string, meta: RequestMeta, approve: boolean, note: string | null): Promise<ActionRow> {
    if (!hasPermission(actor, "actions:approve")) throw new ForbiddenError("Approving agent actions needs actions:approve");
    return onAction(id, async (tx, row, now) => {
      if (row.ownerId === actor.userId) throw new ForbiddenError("An agent's owner cannot approve or reject its actions");
      if (isDue(row, now)) {
        return { row: await expire(tx, row, now, meta), error: new ConflictError("The approval window of this action has passed", "id") };
      }
      if (row.status !== "PENDING_APPROVAL") throw new ConflictError(`The action is ${row.status}, not waiting for approval`, "id");
      const by: AuditActor = { type: "user", id: actor.userId };
      if (!approve) {
        const rejected = await updateAction(tx, row.id, { status: "REJECTED", resolvedAt: now, resolvedBy: actor.userId });
        await enqueueWebhookEvents(tx, [actionRejected(rejected, actor.userId, "REJECTED", now)]);
        await auditStep(tx, meta, { actor: by, action: AuditAction.AGENT_ACTION_REJECTED, outcome: "success", row: rejected, details: { note }, at: now });
        return { row: rejected };
      }
      return approveHeld(tx, row, now, meta, actor, note);
    });
  }

  /**
   * Approval re-decides the action against the chain and the spend of now: the approval
   * stands in for REQUIRE_APPROVAL and for soft caps without room, nothing else. A rule that now denies or a cap without
   * room denies the action (POLICY_DENIED to the approver, its reasons as the approver may
   * see them); otherwise the estimate is reserved as for an allowed action. The re-decision
   * is a decision of its own: recorded like a submission's (`record.approval`, which
   * `replayDecision` replays) and audited with the same details.
   */
  async function approveHeld(tx: Tx, row: ActionRow, now: Date, meta: RequestMeta, approver: Principal, note: string | null): Promise<Outcome> {
    const agent = await findAgent(tx, row.agentId);
    if (!agent || agent.deletedAt !== null || agent.status !== "active") {
      throw new ConflictError("The agent is suspended or deleted; reject the action instead", "id");
    }
    const { chain, ownerRoles } = await policies.agentChain(agent, tx);
    const request = { ...requestOf(row.record as unknown as DecisionRecord), ownerRoles };
    const counters = decisionCounters(chain, request, now);
    const spend = await lockCounters(tx, counters, now);
    const evaluated = evaluate(chain, request, spend, now);
    const approval = buildDecisionRecord(request, spend, evaluated, now, counters);
    const record: Record<string, unknown> = { ...(row.record as Record<string, unknown>), approval };
    const audited = (resolved: ActionRow, decision: Decision) =>
      auditStep(tx, meta, {
        actor: { type: "user", id: approver.userId },
        action: AuditAction.AGENT_ACTION_APPROVED,
        outcome: decision.outcome === "DENIED" ? "denied" : "success",
        row: resolved,
        details: { note, ...decisionDetails(resolved, decision, approval, "APPROVAL") },
        at: now,
      });
    if (evaluated.outcome === "DENIED") {
      const denied = await updateAction(tx, row.id, {
        status: "DENIED",
        reasons: publicReasons(evaluated),
        record,
        resolvedAt: now,
        resolvedBy: approver.userId,
      });
      await enqueueWebhookEvents(tx, [actionRejected(denied, approver.userId, "DENIED_ON_APPROVAL", now)]);
      await audited(denied, evaluated);
      return { row: denied, error: deniedError(denied, spendSight({ kind: "user", user: approver })) };
    }
    const keys = counters.filter((spec) => spec.measure !== "ACTIONS").map((spec) => spec.key);
    record.settleBound = storeSettleBound(settleBound(chain, request, evaluated.caps));
    await reserve(tx, keys, row.estimatedCost, now);
    await countActions(tx, counters.filter((spec) => spec.measure === "ACTIONS").map((spec) => spec.key), now);
    const approved = await updateAction(tx, row.id, {
      status: "RESERVED",
      record,
      counterKeys: keys,
      reserved: row.estimatedCost,
      expiresAt: new Date(now.getTime() + timeouts.reservationTtlMs),
      resolvedAt: now,
      resolvedBy: approver.userId,
    });
    await enqueueWebhookEvents(tx, [actionApproved(approved, approver.userId, now)]);
    const decided = approvedDecision(evaluated, row.estimatedCost);
    await audited(approved, decided);
    const recorded = await recordCrossings(tx, actionCrossings(decided.caps, row), now);
    await enqueueWebhookEvents(tx, recorded.map((crossing) => spendThresholdCrossed(crossing, now)));
    return { row: approved, crossings: recorded };
  }

  return {
    /**
     * Charges the actual cost in place of the reservation (action-settle.ts). Above the
     * estimate it is flagged as an overrun and accepted only within the bound the chain set
     * (settle-bound.ts); beyond it, POLICY_DENIED naming the bound, audited, nothing charged.
     * A reservation that already expired is settled late: decided against the caps of now
     * like a new charge. Settling again with the same cost returns the settled action; with
     * another cost it is a CONFLICT.
     */
    async settle(agent: AgentPrincipal, id: string, rawCost: bigint, meta: RequestMeta): Promise<ActionRow> {
      const actualCost = checkCost(rawCost, "actualCost");
      return onAction(id, async (tx, row, now) => {
        ownAction(agent, row);
        if (row.status === "SETTLED" && row.actualCost === actualCost) return { row };
        // EXPIRED is settled late only when it was a reservation (an expired hold never ran).
        const wasReserved = row.status === "RESERVED" || (row.status === "EXPIRED" && row.counterKeys.length > 0);
        if (!wasReserved) throw new ConflictError(`The action is ${row.status}: only an allowed action can be settled`, "id");
        return settleAction({ policies }, tx, agent, row, actualCost, now, meta);
      });
    },

    /** Releases a reservation or withdraws a held action; cancelling twice is a no-op. */
    async cancel(agent: AgentPrincipal, id: string, meta: RequestMeta): Promise<ActionRow> {
      return onAction(id, async (tx, row, now) => {
        ownAction(agent, row);
        if (row.status === "CANCELLED") return { row };
        if (row.status !== "RESERVED" && row.status !== "PENDING_APPROVAL") {
          throw new ConflictError(`The action is ${row.status} and can no longer be cancelled`, "id");
        }
        const cancelled = await release(tx, row, now, meta, {
          status: "CANCELLED",
          actor: { type: "agent", id: agent.agentId },
          action: AuditAction.AGENT_ACTION_CANCELLED,
        });
        return { row: cancelled };
      });
    },

    /**
     * A person with spend:write releases any agent's reservation or withdraws its hold (the
     * agent's own cancel, for when the agent cannot: gone, suspended, stuck), with a reason.
     * Releasing a released action again is a no-op.
     */
    async releaseAsPerson(actor: Principal, id: string, rawReason: string, meta: RequestMeta): Promise<ActionRow> {
      if (!hasPermission(actor, "spend:write")) throw new ForbiddenError("Releasing another agent's reservation needs spend:write");
      const reason = checkReason(rawReason, "reason");
      return onAction(id, async (tx, row, now) => {
        if (row.status === "CANCELLED") return { row };
        if (row.status !== "RESERVED" && row.status !== "PENDING_APPROVAL") {
          throw new ConflictError(`The action is ${row.status} and holds nothing to release`, "id");
        }
        const released = await release(tx, row, now, meta, {
          status: "CANCELLED",
          actor: { type: "user", id: actor.userId },
          action: AuditAction.AGENT_ACTION_RELEASED,
          details: { reason },
        });
        return { row: released };
      });
    },

    /**
     * Releases every open reservation and hold of an agent inside the caller's transaction
     * (the agent service's suspend and delete), one audit row each; returns how many. Locks
     * the action rows, then all their counters in key order, as the expiry sweep does.
     */
    async releaseAgentHoldings(tx: Tx, agentId: string, by: AuditActor, reason: string, meta: RequestMeta): Promise<number> {
      const now = clock.now();
      const open = await openActionsOf(tx, agentId);
      await lockExisting(tx, [...new Set(open.flatMap((row) => row.counterKeys))]);
      for (const row of open) {
        await release(tx, row, now, meta, { status: "CANCELLED", actor: by, action: AuditAction.AGENT_ACTION_RELEASED, details: { reason } });
      }
      return open.length;
    },

    /**
     * Withdraws the held actions of a finished run (nothing was charged for them), one audit
     * row each, in a transaction of its own: the run service calls it after the run's own
     * change committed, so the run row is never locked together with action rows (a decision
     * locks counters, then the run; an approval the action, then counters). Returns how many.
     */
    async releaseRunHolds(runId: string, by: AuditActor, reason: string, meta: RequestMeta): Promise<number> {
      return db.transaction(async (tx) => {
        const now = clock.now();
        const held = await heldActionsOfRun(tx, runId);
        for (const row of held) {
          await release(tx, row, now, meta, { status: "CANCELLED", actor: by, action: AuditAction.AGENT_ACTION_RELEASED, details: { reason } });
        }
        return held.length;
      });
    },

    approve: (actor: Principal, id: string, meta: RequestMeta, note: string | null = null) => resolveHold(actor, id, meta, true, note),
    reject: (actor: Principal, id: string, meta: RequestMeta, note: string | null = null) => resolveHold(actor, id, meta, false, note),

    /**
     * Releases every reservation and hold past its expiry; returns how many. Safe on several
     * processes at once: each locks the rows it takes and skips the ones another has.
     */
    async expireDue(): Promise<number> {
      let expired = 0;
      for (;;) {
        const count = await db.transaction(async (tx) => {
          const now = clock.now();
          const due = await dueForExpiry(tx, now, EXPIRY_BATCH);
          // All their counters at once, in key order: one by one, two sweepers could deadlock.
          await lockExisting(tx, [...new Set(due.flatMap((row) => row.counterKeys))]);
          for (const row of due) await expire(tx, row, now, SYSTEM_REQUEST);
          return due.length;
        });
        expired += count;
        if (count < EXPIRY_BATCH) return expired;
      }
    },
  };
}

export type ActionLifecycle = ReturnType<typeof createActionLifecycle>;
