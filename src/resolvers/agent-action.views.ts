import { withCapFacets } from "./cap-facets";
import type { ActionRow } from "../actions/action.repository";
import { settledLate } from "../actions/action-settle";
import type { PublicReason } from "../actions/decision-record";
import { publicReasons } from "../actions/decision-record";
import type { ReplayResult, StageReplay as StageResult, WhatIfReport as WhatIfResult } from "../actions/action-replay";
import { redactCap, redactReasons, type SpendSight } from "../actions/spend-privacy";
import { encodeTimeCursor } from "./time-cursor";
import type { DecisionCore } from "../policy/decision-types";
import type {
  AgentAction,
  AgentActionStatus,
  DecisionOutcome,
  DecisionReason,
  DecisionReplay,
  DecisionStage,
  DecisionView,
  StageReplay,
  WhatIfReport,
} from "../schema/agent-action.types";

/**
 * Every view of reasons and checked caps takes the viewer's `SpendSight`: what leaves the
 * server for a viewer passes spend-privacy.ts here, once, whatever the resolver.
 */
export function reasonViews(reasons: readonly PublicReason[], sight: SpendSight): DecisionReason[] {
  return redactReasons(reasons, sight) as DecisionReason[];
}

export function actionView(row: ActionRow, sight: SpendSight): AgentAction {
  return {
    id: row.id,
    agentId: row.agentId,
    ownerId: row.ownerId,
    action: row.action,
    resource: row.resource,
    status: row.status as AgentActionStatus,
    decision: row.outcome as DecisionOutcome,
    reasons: reasonViews(row.reasons as PublicReason[], sight),
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
    runId: row.runId,
  };
}

export function decisionView(core: DecisionCore, sight: SpendSight): DecisionView {
  return {
    outcome: core.outcome,
    reasons: reasonViews(publicReasons(core), sight),
    decidingRule: core.decidingRule,
    caps: core.caps.map((cap) =>
      redactCap(
        {
          ...withCapFacets(cap),
          counter: cap.key,
          remaining: cap.limit > cap.spentAfter ? cap.limit - cap.spentAfter : 0n,
        },
        sight,
      ),
    ),
    policies: [...core.policies],
  };
}

export function whatIfView(report: WhatIfResult, sight: SpendSight): WhatIfReport {
  return {
    ...report,
    changes: report.changes.map((change) => ({
      ...change,
      recordedOutcome: change.recordedOutcome as DecisionOutcome,
      proposedOutcome: change.proposedOutcome as DecisionOutcome,
      reasons: reasonViews(change.reasons, sight),
    })),
  };
}

function stageView(stage: StageResult, sight: SpendSight): StageReplay {
  return {
    stage: stage.stage as DecisionStage,
    decidedAt: stage.decidedAt,
    recordedOutcome: stage.recordedOutcome as DecisionOutcome,
    replayedOutcome: stage.replayedOutcome as DecisionOutcome,
    matches: stage.matches,
    reasons: reasonViews(stage.reasons, sight),
  };
}

export function replayView(result: ReplayResult, sight: SpendSight): DecisionReplay {
  return { ...stageView(result, sight), actionId: result.actionId, stages: result.stages.map((stage) => stageView(stage, sight)) };
}

/** Cursor of an action in the newest-first order: its decision time and id. */
export function actionCursor(row: ActionRow): string {
  return encodeTimeCursor(row.decidedAt, row.id);
}
