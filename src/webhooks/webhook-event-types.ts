/**
 * The closed list of webhook event types. An endpoint subscribes to some of them; the
 * payload's `type` is one of them. Emitters: action.* (decision batcher, action
 * lifecycle), agent.suspended and agent_key.revoked (agents), user.locked (login),
 * refresh_token.reuse_detected (refresh); spend.threshold_crossed and run.finished are
 * emitted by the spend-threshold and runs code.
 */
export const WEBHOOK_EVENT_TYPES = [
  "spend.threshold_crossed",
  "action.pending_approval",
  "action.approved",
  "action.rejected",
  "run.finished",
  "agent.suspended",
  "agent_key.revoked",
  "user.locked",
  "refresh_token.reuse_detected",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** One event to report: ids and facts, never secrets or token material. */
export interface WebhookEventInput {
  type: WebhookEventType;
  occurredAt: Date;
  data: Record<string, unknown>;
}
