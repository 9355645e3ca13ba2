import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite, openPostgres, type Database } from "../../src/db/database";
import { webhookDeliveries } from "../../src/db/schema";
import { createSecretBox } from "../../src/crypto/secret-box";
import { enqueueWebhookEvents } from "../../src/webhooks/webhook-events";
import { claimDue, insertEndpoint, recordAttempt } from "../../src/webhooks/webhook.repository";
import { CreateWebhookEndpointDocument } from "../generated/graphql";
import { BACKEND, createPostgresDatabase } from "../support/backend";
import { loginUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { createEndpoint, FAST_WEBHOOKS, untilDeliveries } from "../support/webhook-fixtures";

/**
 * What keeps webhooks safe and durable: targets on loopback are refused (at registration, and
 * at delivery when a name resolves there later), the outbox outlives the server that wrote
 * it, and a claim is a lease: taken once, and taken again only after it lapses.
 */
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());

const suspendSomeAgent = async (server: TestServer) => {
  const owner = (await server.client.ok(
    `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`,
    { input: { email: `owner-${crypto.randomBytes(4).toString("hex")}@example.com`, password: "correct horse battery staple" } },
  )) as { register: { accessToken: string } };
  const token = { token: owner.register.accessToken };
  const agent = (await server.client.ok(`mutation { createAgent(input: { name: "a" }) { id } }`, {}, token)) as { createAgent: { id: string } };
  await server.client.ok(`mutation ($id: ID!) { suspendAgent(id: $id) { id } }`, { id: agent.createAgent.id }, token);
};

describe("targets on loopback and private addresses, with the allowance off", () => {
  let server: TestServer;
  // hooks.example.test resolves to a public address at registration, to 127.0.0.1 afterwards (DNS rebinding).
  let lookups = 0;
  const webhookResolver = async (hostname: string) => {
    if (hostname !== "hooks.example.test") throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    lookups += 1;
    return [{ address: lookups === 1 ? "203.0.113.10" : "127.0.0.1", family: 4 }];
  };
  beforeAll(async () => {
    server = await startTestServer({ webhookResolver, env: { ...FAST_WEBHOOKS, WEBHOOK_ALLOW_PRIVATE_TARGETS: "false" } });
  });
  afterAll(() => server.close());

  it("refuses them at registration, by IP literal or by a name that resolves there", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const refusedSystemDns = await startTestServer({ env: { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_POLL_INTERVAL: "0" } });
    try {
      const adminThere = await loginUser(refusedSystemDns.client, ADMIN_EMAIL, ADMIN_PASSWORD);
      for (const url of [receiver.url, `http://localhost:${receiver.port}/hooks`, "http://[::1]/", "http://169.254.169.254/latest"]) {
        const response = await refusedSystemDns.client.request(CreateWebhookEndpointDocument, { input: { url, eventTypes: ["agent.suspended"] } }, { token: adminThere.accessToken });
        expect(response.errors?.[0]?.extensions, url).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
      }
    } finally {
      await refusedSystemDns.close();
    }
    const https = await startTestServer({ env: { WEBHOOK_POLL_INTERVAL: "0" } });
    try {
      const adminThere = await loginUser(https.client, ADMIN_EMAIL, ADMIN_PASSWORD);
      const plain = await https.client.request(CreateWebhookEndpointDocument, { input: { url: "http://hooks.example.com/", eventTypes: ["agent.suspended"] } }, { token: adminThere.accessToken });
      expect(plain.errors?.[0]?.message).toMatch(/must use https/);
    } finally {
      await https.close();
    }
    expect(admin.accessToken).toBeTruthy();
  });

  it("refuses them at delivery, after resolving the name again, and never connects", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const endpoint = await createEndpoint(server.client, admin, `http://hooks.example.test:${receiver.port}/hooks`, ["agent.suspended"]);
    const before = receiver.received.length;
    await suspendSomeAgent(server);
    const [delivery] = await untilDeliveries(server.client, admin, { endpointId: endpoint.endpoint.id }, (rows) => (rows[0]?.attemptCount ?? 0) >= 1);
    expect(delivery!.attempts[0]!.error).toBe("refused: the host resolves to a loopback, private or link-local address");
    expect(delivery!.attempts[0]!.responseStatus).toBeNull();
    expect(receiver.received.length).toBe(before);
  });
});

/** A database that outlives one server: a PGlite directory, or a PostgreSQL database. */
async function durableDatabase(): Promise<{ open(): Database; drop(): Promise<void> }> {
  if (BACKEND === "embedded") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-wh-"));
    return { open: () => openPglite(dir), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const created = await createPostgresDatabase();
  return { open: () => openPostgres(created.url, { poolMax: 4 }), drop: created.drop };
}

describe("the outbox", () => {
  it("survives a restart: events written while no worker ran are delivered by the next server", async () => {
    const durable = await durableDatabase();
    const env = { ...FAST_WEBHOOKS, WEBHOOK_ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64") };
    const first = await startTestServer({ database: durable.open(), env: { ...env, WEBHOOK_POLL_INTERVAL: "0" } });
    const admin = await loginUser(first.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const endpoint = await createEndpoint(first.client, admin, receiver.url, ["agent.suspended"]);
    const before = receiver.received.length;
    await suspendSomeAgent(first);
    await first.close();
    expect(receiver.received.length).toBe(before);

    const second = await startTestServer({ database: durable.open(), env });
    try {
      const adminAgain = await loginUser(second.client, ADMIN_EMAIL, ADMIN_PASSWORD);
      const [delivery] = await untilDeliveries(second.client, adminAgain, { endpointId: endpoint.endpoint.id }, (rows) => rows[0]?.status === "SUCCEEDED");
      expect(receiver.received.some((entry) => entry.headers["webhook-id"] === delivery!.eventId)).toBe(true);
    } finally {
      await second.close();
      await durable.drop();
    }
  });

  it("claims a delivery once, lets another claimer take it after the lease, and ignores the first claimer's late answer", async () => {
    const durable = await durableDatabase();
    const database = durable.open();
    try {
      await database.migrate();
      const { db } = database;
      const box = createSecretBox(crypto.randomBytes(32));
      const at = new Date("2026-01-01T00:00:00Z");
      // No subscriber: nothing is written at all.
      await enqueueWebhookEvents(db, [{ type: "user.locked", occurredAt: at, data: { userId: "u" } }]);
      expect(await db.select().from(webhookDeliveries)).toHaveLength(0);

      const endpoint = await insertEndpoint(db, { url: receiver.url, description: null, eventTypes: ["user.locked"], secretSealed: box.seal("whsec_x"), enabled: true, createdBy: null, now: at });
      await enqueueWebhookEvents(db, [{ type: "user.locked", occurredAt: at, data: { userId: "u" } }, { type: "agent.suspended", occurredAt: at, data: {} }]);
      const rows = await db.select().from(webhookDeliveries);
      expect(rows.map((row) => row.endpointId)).toEqual([endpoint.id]);

      const lease = new Date(at.getTime() + 60_000);
      expect(await claimDue(db, at, lease, crypto.randomUUID(), 10)).toEqual([rows[0]!.id]);
      // Another process, while the lease runs: nothing to take.
      expect(await claimDue(db, new Date(at.getTime() + 59_000), lease, crypto.randomUUID(), 10)).toEqual([]);
      // The first claimer died; after its lease, the delivery is taken again.
      const second = crypto.randomUUID();
      expect(await claimDue(db, lease, new Date(lease.getTime() + 60_000), second, 10)).toEqual([rows[0]!.id]);
      const attempt = { number: 1, at: lease, status: 204, error: null, durationMs: 5 };
      const done = { status: "SUCCEEDED" as const, nextAttemptAt: lease };
      expect(await recordAttempt(db, { deliveryId: rows[0]!.id, claimId: crypto.randomUUID() }, attempt, done)).toBe(false);
      expect(await recordAttempt(db, { deliveryId: rows[0]!.id, claimId: second }, attempt, done)).toBe(true);
      const [final] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, rows[0]!.id));
      expect(final).toMatchObject({ status: "SUCCEEDED", attempts: 1, leaseUntil: null, claimId: null });
    } finally {
      await database.close();
      await durable.drop();
    }
  });
});
