import type { ActionRow } from "../actions/action.repository";
import { settledLate } from "../actions/action-settle";
import { isUuid } from "../validation/ids";
import { isStorableDate } from "../validation/storable";
import type { PublicReason } from "../actions/decision-record";
import { publicReasons } from "../actions/decision-record";
import type { WhatIfReport as WhatIfResult } from "../actions/action-replay";
import type { DecisionCore } from "../policy/decision-types";
import type {
  AgentAction,
  AgentActionStatus,
  DecisionOutcome,
  DecisionReason,
  DecisionView,
  WhatIfReport,
} from "../schema/agent-action.types";

export function reasonView(reason: PublicReason): DecisionReason {
  return reason as DecisionReason;
}

export function actionView(row: ActionRow): AgentAction {
  return {
    id: row.id,
    agentId: row.agentId,
    ownerId: row.ownerId,
    action: row.action,
    resource: row.resource,
    status: row.status as AgentActionStatus,
    decision: row.outcome as DecisionOutcome,
    reasons: (row.reasons as PublicReason[]).map(reasonView),
    shadowDecision: row.shadowOutcome as DecisionOutcome | null,
    estimatedCost: row.estimatedCost,
    actualCost: row.actualCost,
    reserved: row.reserved,
    overrun: row.overrun,
    settledLate: settledLate(row),
    idempotencyKey: row.idempotencyKey,
    metadata: row.metadata ?? null,
    decidedAt: row.decidedAt,
    expiresAt: row.expiresAt,
    resolvedAt: row.resolvedAt,
    resolvedBy: row.resolvedBy,
  };
}

export function decisionView(core: DecisionCore): DecisionView {
  return {
    outcome: core.outcome,
    reasons: publicReasons(core).map(reasonView),
    decidingRule: core.decidingRule,
    caps: core.caps.map((cap) => ({
      ...cap,
      counter: cap.key,
      remaining: cap.limit > cap.spentAfter ? cap.limit - cap.spentAfter : 0n,
    })),
    policies: core.policies,
  };
}

export function whatIfView(report: WhatIfResult): WhatIfReport {
  return {
    ...report,
    changes: report.changes.map((change) => ({
      ...change,
      recordedOutcome: change.recordedOutcome as DecisionOutcome,
      proposedOutcome: change.proposedOutcome as DecisionOutcome,
      reasons: change.reasons.map(reasonView),
    })),
  };
}

/** Cursor of an action in the newest-first order: its decision time and id. */
export function actionCursor(row: ActionRow): string {
  return Buffer.from(`${row.decidedAt.toISOString()}|${row.id}`).toString("base64url");
}

export function parseActionCursor(cursor: string): { decidedAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const decidedAt = new Date(at ?? "");
  if (!id || !isUuid(id) || !isStorableDate(decidedAt)) return null;
  return { decidedAt, id };
}
