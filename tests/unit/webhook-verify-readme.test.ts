import { describe, expect, it } from "vitest";
import { newWebhookSecret, webhookBody, webhookHeaders } from "../../src/webhooks/webhook-signature";
import { readmeVerifier } from "../support/readme-verifier";

/**
 * The README's "verify a webhook" snippet, run as a receiver would paste it: it accepts what
 * the server signs and refuses a changed body, another secret and a stale timestamp.
 */
describe("the README's webhook verification snippet", () => {
  const verify = readmeVerifier();
  const secret = newWebhookSecret();
  const body = webhookBody({ id: "6f1c0a55-0d0e-4c7e-9d55-1b7f3f1f2a10", type: "agent.suspended", occurredAt: new Date(), data: { agentId: "a" } });
  const headers = webhookHeaders(secret, "6f1c0a55-0d0e-4c7e-9d55-1b7f3f1f2a10", new Date(), body);

  it("accepts what the server signs and returns the event", () => {
    expect(verify(secret, headers, body)).toMatchObject({ type: "agent.suspended", data: { agentId: "a" } });
  });

  it("refuses a changed body, another secret, another id and a stale timestamp", () => {
    expect(() => verify(secret, headers, body.replace('"a"', '"b"'))).toThrow(/bad signature/);
    expect(() => verify(newWebhookSecret(), headers, body)).toThrow(/bad signature/);
    expect(() => verify(secret, { ...headers, "webhook-id": "another" }, body)).toThrow(/bad signature/);
    const old = new Date(Date.now() - 10 * 60_000);
    expect(() => verify(secret, webhookHeaders(secret, "x", old, body), body)).toThrow(/timestamp/);
    expect(() => verify(secret, {}, body)).toThrow(/missing/);
  });
});
