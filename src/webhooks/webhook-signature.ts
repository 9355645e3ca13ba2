import crypto from "node:crypto";

/**
 * Signing in the Standard Webhooks style (https://www.standardwebhooks.com): every request
 * carries `webhook-id` (the event id: the same on every attempt, for deduplication),
 * `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature: v1,<base64 of
 * HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`. The secret reads `whsec_<base64 of 32
 * random bytes>` and the key is those bytes, so Standard Webhooks' own verifiers accept it.
 */
export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A fresh signing secret: shown to its owner once, kept sealed. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${crypto.randomBytes(SECRET_BYTES).toString("base64")}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

/** `v1,<base64 signature>` of one message. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = crypto.createHmac("sha256", keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The headers of one attempt (besides content-type and user-agent). */
export function webhookHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signWebhook(secret, id, timestamp, body) };
}

/** The body every endpoint receives: the envelope (id, type, occurredAt) and the event's data. */
export function webhookBody(event: { id: string; type: string; occurredAt: Date; data: unknown }): string {
  return JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data });
}
