import { Writable } from "node:stream";
import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, webhookEndpoints } from "../../src/db/schema";
import { createLogger } from "../../src/logging/logger";
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  GrantRoleDocument,
  ResendWebhookDeliveryDocument,
  ResendWebhookEventDocument,
  RotateWebhookEndpointSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  WebhookEventTypesDocument,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey } from "../support/agent-fixtures";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { readmeVerifier } from "../support/readme-verifier";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { createEndpoint, FAST_WEBHOOKS, untilDeliveries } from "../support/webhook-fixtures";

/**
 * Webhooks end to end: an admin registers an endpoint on a local receiver, a change emits an
 * event, the worker delivers it signed (the README's snippet verifies it), retries a failing
 * receiver, gives up after the last attempt, and re-sends on request. Every log line is
 * kept to check that no secret is ever written.
 */
const logs: string[] = [];
const logger = createLogger({
  level: "trace",
  destination: new Writable({
    write(chunk: Buffer, _encoding, next) {
      logs.push(chunk.toString());
      next();
    },
  }),
});
let server: TestServer;
let receiver: WebhookReceiver;
let admin: SessionCredentialsFragment;
const secrets: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ logger, env: { ...FAST_WEBHOOKS, WEBHOOK_MAX_ATTEMPTS: "3" } });
  receiver = await startWebhookReceiver();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

/** Suspends a fresh agent: one agent.suspended event. Returns the agent's id. */
async function suspendSomeAgent(): Promise<string> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  await server.client.ok(`mutation ($id: ID!) { suspendAgent(id: $id) { id } }`, { id: agent.id }, { token: owner.accessToken });
  return agent.id;
}

describe("registering and delivering", () => {
  it("delivers an event signed so that the README's verifier accepts it", async () => {
    const created = await createEndpoint(server.client, admin, receiver.url, ["agent.suspended"]);
    secrets.push(created.secret);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.endpoint).toMatchObject({ url: receiver.url, eventTypes: ["agent.suspended"], enabled: true });

    const agentId = await suspendSomeAgent();
    const [request] = await receiver.waitForAccepted(1);
    const event = readmeVerifier()(created.secret, request!.headers as Record<string, string>, request!.rawBody) as Record<string, any>;
    expect(event).toMatchObject({ type: "agent.suspended", data: { agentId } });
    expect(request!.headers["webhook-id"]).toBe(event.id);
    expect(request!.headers["content-type"]).toBe("application/json");

    const [logged] = await untilDeliveries(server.client, admin, { endpointId: created.endpoint.id }, (rows) => rows[0]?.status === "SUCCEEDED");
    expect(logged).toMatchObject({ eventId: event.id, eventType: "agent.suspended", attemptCount: 1, nextAttemptAt: null });
    expect(logged!.attempts).toEqual([expect.objectContaining({ attempt: 1, responseStatus: 204, error: null })]);
    // Disable it again so the other tests' events do not reach it.
    await server.client.ok(UpdateWebhookEndpointDocument, { id: created.endpoint.id, input: { enabled: false } }, { token: admin.accessToken });
  });

  it("retries a failing receiver with backoff: two failures, then delivered on the third attempt", async () => {
    const created = await createEndpoint(server.client, admin, receiver.url, ["agent.suspended"]);
    secrets.push(created.secret);
    const before = receiver.received.length;
    receiver.failNext(2, 503);
    await suspendSomeAgent();
    const [delivery] = await untilDeliveries(server.client, admin, { endpointId: created.endpoint.id }, (rows) => rows[0]?.status === "SUCCEEDED");
    expect(delivery!.attemptCount).toBe(3);
    expect(delivery!.attempts.map((attempt) => attempt.responseStatus)).toEqual([503, 503, 204]);
    expect(delivery!.attempts[0]!.error).toBe("answered 503");
    const sent = receiver.received.slice(before);
    // The same event id on every attempt: a receiver deduplicates on it.
    expect(new Set(sent.map((entry) => entry.headers["webhook-id"]))).toEqual(new Set([delivery!.eventId]));
    // Backoff: the attempts are spread out, not back to back (base 100 ms: waits of at least 50 and 100 ms).
    const times = delivery!.attempts.map((attempt) => Date.parse(attempt.at));
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(150);
    await server.client.ok(UpdateWebhookEndpointDocument, { id: created.endpoint.id, input: { enabled: false } }, { token: admin.accessToken });
  });

  it("marks a delivery FAILED after the last attempt, audits it, and re-sends it on request", async () => {
    const created = await createEndpoint(server.client, admin, receiver.url, ["agent.suspended"]);
    secrets.push(created.secret);
    receiver.failNext(3, 500);
    await suspendSomeAgent();
    const [failed] = await untilDeliveries(server.client, admin, { endpointId: created.endpoint.id }, (rows) => rows[0]?.status === "FAILED");
    expect(failed!.attemptCount).toBe(3);
    const audited = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.targetId, failed!.id));
    expect(audited.map((row) => row.action)).toEqual(["webhook.delivery.failed"]);
    const listedFailed = await server.client.ok(WebhookDeliveriesDocument, { filter: { status: "FAILED", endpointId: created.endpoint.id } }, { token: admin.accessToken });
    expect(listedFailed.webhookDeliveries.totalCount).toBe(1);

    const resent = (await server.client.ok(ResendWebhookDeliveryDocument, { id: failed!.id }, { token: admin.accessToken })).resendWebhookDelivery;
    expect(resent).toMatchObject({ eventId: failed!.eventId, status: "PENDING", attemptCount: 0 });
    const rows = await untilDeliveries(server.client, admin, { endpointId: created.endpoint.id }, (list) => list.some((row) => row.id === resent.id && row.status === "SUCCEEDED"));
    expect(rows.map((row) => row.status).sort()).toEqual(["FAILED", "SUCCEEDED"]);

    // The event once more, to every endpoint subscribed now (this one).
    const again = (await server.client.ok(ResendWebhookEventDocument, { eventId: failed!.eventId }, { token: admin.accessToken })).resendWebhookEvent;
    expect(again.map((row) => row.endpointId)).toEqual([created.endpoint.id]);
    await untilDeliveries(server.client, admin, { endpointId: created.endpoint.id }, (list) => list.filter((row) => row.status === "SUCCEEDED").length === 2);
    const resends = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.action, "webhook.delivery.resent"));
    expect(resends).toHaveLength(2);
    await server.client.ok(DeleteWebhookEndpointDocument, { id: created.endpoint.id }, { token: admin.accessToken });
  });
});

describe("managing endpoints", () => {
  it("updates, rotates and deletes, each audited; unknown ids are NOT_FOUND and bad input names its field", async () => {
    const created = await createEndpoint(server.client, admin, receiver.url, ["user.locked"]);
    secrets.push(created.secret);
    const id = created.endpoint.id;
    const updated = await server.client.ok(UpdateWebhookEndpointDocument, { id, input: { eventTypes: ["user.locked", "agent.suspended"], description: "ops" } }, { token: admin.accessToken });
    expect(updated.updateWebhookEndpoint).toMatchObject({ eventTypes: ["user.locked", "agent.suspended"], description: "ops", enabled: true });
    const rotated = (await server.client.ok(RotateWebhookEndpointSecretDocument, { id }, { token: admin.accessToken })).rotateWebhookEndpointSecret;
    secrets.push(rotated.secret);
    expect(rotated.secret).not.toBe(created.secret);

    const bad = await server.client.request(CreateWebhookEndpointDocument, { input: { url: receiver.url, eventTypes: ["user.created"] } }, { token: admin.accessToken });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "eventTypes" });
    const noTypes = await server.client.request(CreateWebhookEndpointDocument, { input: { url: receiver.url, eventTypes: [] } }, { token: admin.accessToken });
    expect(errorCode(noTypes)).toBe("BAD_USER_INPUT");
    const unknown = await server.client.request(UpdateWebhookEndpointDocument, { id: "00000000-0000-4000-8000-000000000000", input: { enabled: false } }, { token: admin.accessToken });
    expect(errorCode(unknown)).toBe("NOT_FOUND");

    expect((await server.client.ok(DeleteWebhookEndpointDocument, { id }, { token: admin.accessToken })).deleteWebhookEndpoint).toBe(true);
    expect(errorCode(await server.client.request(DeleteWebhookEndpointDocument, { id }, { token: admin.accessToken }))).toBe("NOT_FOUND");
    const trail = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.targetId, id));
    expect(trail.map((row) => row.action)).toEqual([
      "webhook.endpoint.created",
      "webhook.endpoint.updated",
      "webhook.endpoint.secret_rotated",
      "webhook.endpoint.deleted",
    ]);
  });

  it("is refused to users without webhooks:read / webhooks:write, a manager included", async () => {
    const user = await registerUser(server.client);
    const manager = await registerUser(server.client);
    await server.client.ok(GrantRoleDocument, { userId: manager.user.id, role: "MANAGER" }, { token: admin.accessToken });
    for (const caller of [user, await loginUser(server.client, manager.user.email)]) {
      const create = await server.client.request(CreateWebhookEndpointDocument, { input: { url: receiver.url, eventTypes: ["user.locked"] } }, { token: caller.accessToken });
      expect(errorCode(create)).toBe("FORBIDDEN");
      expect(errorCode(await server.client.request(WebhookEndpointsDocument, {}, { token: caller.accessToken }))).toBe("FORBIDDEN");
      expect(errorCode(await server.client.request(WebhookDeliveriesDocument, {}, { token: caller.accessToken }))).toBe("FORBIDDEN");
    }
    expect(errorCode(await server.client.request(WebhookEventTypesDocument, {}))).toBe("UNAUTHENTICATED");
    const types = await server.client.ok(WebhookEventTypesDocument, {}, { token: admin.accessToken });
    expect(types.webhookEventTypes).toHaveLength(9);
  });
});

describe("the signing secret", () => {
  it("is stored sealed and appears in no answer but its creation or rotation, no audit row and no log line", async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const stored = await server.app.database.db.select().from(webhookEndpoints);
    const listed = await server.client.request(WebhookEndpointsDocument, {}, { token: admin.accessToken });
    const log = await server.client.request(WebhookDeliveriesDocument, { first: 200 }, { token: admin.accessToken });
    const audit = await server.app.database.db.select().from(auditEvents).where(like(auditEvents.action, "webhook.%"));
    const haystacks = [JSON.stringify(stored), JSON.stringify(listed), JSON.stringify(log), JSON.stringify(audit, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)), logs.join("\n")];
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      const key = secret.slice("whsec_".length);
      for (const haystack of haystacks) {
        expect(haystack).not.toContain(key);
        expect(haystack).not.toContain(Buffer.from(key, "base64").toString("hex"));
      }
    }
    expect(stored.every((row) => row.secretSealed.startsWith("v1.wh1."))).toBe(true);
  });
});
