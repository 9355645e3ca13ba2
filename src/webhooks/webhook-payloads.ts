import type { WebhookEventInput } from "./webhook-event-types";

/**
 * The events this server emits, one builder each, so every payload's shape is written down
 * in one place (README, Webhooks). Payloads carry ids and facts a receiver acts on; never a
 * secret, a token or a hash. Money is a decimal string of micro-units, as in the API.
 */
interface ActionFacts {
  id: string;
  agentId: string;
  ownerId: string;
  action: string;
  resource: string | null;
  estimatedCost: bigint;
  status: string;
}

const actionData = (row: ActionFacts) => ({
  actionId: row.id,
  agentId: row.agentId,
  ownerId: row.ownerId,
  action: row.action,
  resource: row.resource,
  estimatedCost: row.estimatedCost.toString(),
  status: row.status,
});

/** A decision held an action for approval. */
export function actionPendingApproval(row: ActionFacts & { expiresAt: Date | null; reasons: readonly unknown[] }, at: Date): WebhookEventInput {
  const reasons = (row.reasons as { code?: unknown; message?: unknown }[]).map((reason) => ({ code: reason.code, message: reason.message }));
  return { type: "action.pending_approval", occurredAt: at, data: { ...actionData(row), expiresAt: row.expiresAt?.toISOString() ?? null, reasons } };
}

/** A person approved a held action and it was reserved. */
export function actionApproved(row: ActionFacts, approvedBy: string, at: Date): WebhookEventInput {
  return { type: "action.approved", occurredAt: at, data: { ...actionData(row), approvedBy } };
}

/**
 * A held action will not run: a person rejected it (`reason` REJECTED), or a person approved
 * it and the re-decision denied it (`reason` DENIED_ON_APPROVAL, status DENIED).
 */
export function actionRejected(row: ActionFacts, decidedBy: string, reason: "REJECTED" | "DENIED_ON_APPROVAL", at: Date): WebhookEventInput {
  return { type: "action.rejected", occurredAt: at, data: { ...actionData(row), decidedBy, reason } };
}

export function agentSuspended(agent: { id: string; ownerId: string }, suspendedBy: string, releasedActions: number, at: Date): WebhookEventInput {
  return { type: "agent.suspended", occurredAt: at, data: { agentId: agent.id, ownerId: agent.ownerId, suspendedBy, releasedActions } };
}

export function agentKeyRevoked(agent: { id: string; ownerId: string }, key: { id: string; prefix: string }, revokedBy: string, at: Date): WebhookEventInput {
  return { type: "agent_key.revoked", occurredAt: at, data: { agentId: agent.id, ownerId: agent.ownerId, keyId: key.id, prefix: key.prefix, revokedBy } };
}

/** Too many failed sign-ins in a row locked the account until `lockedUntil`. */
export function userLocked(userId: string, lockedUntil: Date | null, level: number, at: Date): WebhookEventInput {
  return { type: "user.locked", occurredAt: at, data: { userId, lockedUntil: lockedUntil?.toISOString() ?? null, lockoutLevel: level } };
}

/** A rotated refresh token came back after its grace window: its session was revoked. */
export function refreshTokenReuseDetected(userId: string, sessionId: string, at: Date): WebhookEventInput {
  return { type: "refresh_token.reuse_detected", occurredAt: at, data: { userId, sessionId, sessionRevoked: true } };
}

/** A cap's alert threshold was crossed for the first time in its window (policy/thresholds.ts). */
export function spendThresholdCrossed(
  crossing: {
    policyId: string;
    capId: string;
    counterKey: string;
    threshold: number;
    per: string;
    window: string;
    subject: string;
    limit: bigint;
    spent: bigint;
    measure: string;
    pattern: string | null;
    actionId: string;
    agentId: string;
    ownerId: string;
  },
  at: Date,
): WebhookEventInput {
  return {
    type: "spend.threshold_crossed",
    occurredAt: at,
    data: {
      policyId: crossing.policyId,
      capId: crossing.capId,
      counter: crossing.counterKey,
      threshold: crossing.threshold,
      per: crossing.per,
      window: crossing.window,
      subject: crossing.subject,
      measure: crossing.measure,
      pattern: crossing.pattern,
      limit: crossing.limit.toString(),
      spent: crossing.spent.toString(),
      actionId: crossing.actionId,
      agentId: crossing.agentId,
      ownerId: crossing.ownerId,
    },
  };
}

/** A run ended: its agent reported SUCCEEDED or FAILED, or a person cancelled it. */
export function runFinished(run: { id: string; ownerId: string; agentId: string; status: string; threadId: string | null; finishedAt: Date | null }, at: Date): WebhookEventInput {
  return {
    type: "run.finished",
    occurredAt: at,
    data: { runId: run.id, ownerId: run.ownerId, agentId: run.agentId, threadId: run.threadId, status: run.status, finishedAt: run.finishedAt?.toISOString() ?? at.toISOString() },
  };
}
