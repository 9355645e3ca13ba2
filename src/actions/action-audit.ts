import { charge } from "../policy/evaluator";
import crypto from "node:crypto";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit, type AuditActor, type AuditEntry } from "../audit/audit-recorder";
import type { Tx } from "../db/database";
import type { CapCheck, Decision, DecisionCore } from "../policy/decision-types";
import type { RequestMeta } from "../request-meta";
import type { ActionRow } from "./action.repository";
import type { DecisionStage } from "./action-replay";
import { publicReasons, type DecisionRecord } from "./decision-record";

/** A cap as the audit shows it: which cap, which counter, the limit, spend before and after. */
function capLine(cap: CapCheck) {
  return {
    capId: cap.capId,
    policyId: cap.policyId,
    policyVersion: cap.policyVersion,
    scope: cap.scope,
    per: cap.per,
    window: cap.window,
    locked: cap.locked,
    counter: cap.key,
    limit: cap.limit.toString(),
    spentBefore: cap.spentBefore.toString(),
    spentAfter: cap.spentAfter.toString(),
    fits: cap.fits,
    // Only for the kinds that have them (a velocity cap counts actions, not money).
    ...(cap.measure === undefined ? {} : { measure: cap.measure }),
    ...(cap.pattern === undefined ? {} : { pattern: cap.pattern }),
    ...(cap.soft === undefined ? {} : { soft: cap.soft }),
  };
}

/** The part of a decision an auditor reads: outcome, reasons, policy versions, caps. */
export function decisionSummary(core: DecisionCore) {
  return {
    outcome: core.outcome,
    reasons: publicReasons(core),
    policies: core.policies.map((ref) => ({ id: ref.id, version: ref.version, name: ref.name, scope: ref.scope, mode: ref.mode })),
    caps: core.caps.map(capLine),
  };
}

/**
 * An approval's re-decision as it took effect: the evaluation would hold the action again
 * (PENDING_APPROVAL), the approval stands in for that, so it is ALLOWED and its estimate is
 * reserved on every cap's counter. Any other outcome stands as evaluated.
 */
export function approvedDecision(evaluated: Decision, cost: bigint): Decision {
  if (evaluated.outcome !== "PENDING_APPROVAL") return evaluated;
  return { ...evaluated, outcome: "ALLOWED", caps: evaluated.caps.map((cap) => ({ ...cap, spentAfter: cap.spentBefore + charge(cap, cost) })) };
}

/** The input as audited: everything but the metadata, which is reduced to its hash. */
export function auditedInput(row: ActionRow) {
  return {
    action: row.action,
    resource: row.resource,
    estimatedCost: row.estimatedCost.toString(),
    idempotencyKey: row.idempotencyKey,
    metadataSha256: row.metadata === null ? null : crypto.createHash("sha256").update(JSON.stringify(row.metadata)).digest("hex"),
    ...(row.runId === null ? {} : { runId: row.runId }),
  };
}

const OUTCOME = { ALLOWED: "success", PENDING_APPROVAL: "success", DENIED: "denied" } as const;

/**
 * What a reviewer needs to replay one decision of an action, the same for a submission and
 * for an approval's re-decision: the stage, the input, the instant, the outcome and reasons,
 * the policy versions, every cap with its spend before and after, the shadow pass, and the
 * digest the replay must reproduce (`record`: the decision record stored with the action).
 */
export function decisionDetails(row: ActionRow, decision: Decision, record: DecisionRecord, stage: DecisionStage) {
  return {
    stage,
    input: auditedInput(row),
    decidedAt: record.at,
    ...decisionSummary(decision),
    shadow: decision.wouldBe === null ? null : { outcome: decision.wouldBe.outcome, reasons: publicReasons(decision.wouldBe) },
    decisionSha256: record.decisionSha256,
  };
}

/** The audit entry of a decision, allowed or not (appended last in the transaction). */
export function decisionAuditEntry(row: ActionRow, decision: Decision, at: Date): AuditEntry {
  return {
    actor: { type: "agent", id: row.agentId },
    action: AuditAction.AGENT_ACTION_DECIDED,
    outcome: OUTCOME[decision.outcome],
    target: { type: "agent_action", id: row.id },
    details: {
      decisionId: row.id,
      agentId: row.agentId,
      ownerId: row.ownerId,
      ...decisionDetails(row, decision, row.record as unknown as DecisionRecord, "SUBMISSION"),
    },
    at,
  };
}

/** The audit row of a later step in an action's life (approval, settle, cancel, expiry). */
export async function auditStep(
  tx: Tx,
  meta: RequestMeta,
  step: { actor: AuditActor; action: AuditAction; outcome: "success" | "denied"; row: ActionRow; details: Record<string, unknown>; at: Date },
): Promise<void> {
  await recordAudit(tx, meta, {
    actor: step.actor,
    action: step.action,
    outcome: step.outcome,
    target: { type: "agent_action", id: step.row.id },
    details: { decisionId: step.row.id, agentId: step.row.agentId, ownerId: step.row.ownerId, status: step.row.status, ...step.details },
    at: step.at,
  });
}
