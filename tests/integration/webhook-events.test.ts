import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookEvents } from "../../src/db/schema";
import {
  ApproveAgentActionDocument,
  CancelAgentActionDocument,
  FinishRunDocument,
  StartRunDocument,
  LoginDocument,
  RefreshDocument,
  RejectAgentActionDocument,
  SubmitAgentActionDocument,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { createEndpoint, FAST_WEBHOOKS } from "../support/webhook-fixtures";

/**
 * Each event type this server emits, from the change that causes it, with its payload: ids
 * and facts, never token material. Held actions are announced from the decision path's own
 * transaction, and an endpoint that never answers does not slow that path down.
 */
let server: TestServer;
let receiver: WebhookReceiver;
let dead: WebhookReceiver;
let admin: SessionCredentialsFragment;
let approver: SessionCredentialsFragment;

beforeAll(async () => {
  server = await startTestServer({ env: { ...FAST_WEBHOOKS, LOCKOUT_THRESHOLD: "2", REFRESH_REUSE_GRACE: "0s", WEBHOOK_TIMEOUT: "5s" } });
  [receiver, dead] = await Promise.all([startWebhookReceiver(), startWebhookReceiver()]);
  dead.hang(true);
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const types = (await server.client.ok(`{ webhookEventTypes }`, {}, { token: admin.accessToken })) as { webhookEventTypes: string[] };
  await createEndpoint(server.client, admin, receiver.url, types.webhookEventTypes);
  approver = admin;
});
afterAll(async () => {
  await server.close();
  await Promise.all([receiver.close(), dead.close()]);
});

type Event = { id: string; type: string; occurredAt: string; data: Record<string, unknown> };

/** Waits for an event of `type` whose data matches `match`. */
async function eventOf(type: string, match: (data: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Event> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = receiver.received.map((entry) => JSON.parse(entry.rawBody) as Event).find((event) => event.type === type && match(event.data));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} event arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An agent whose payments.* need approval under an AGENT/DAY cap of 10 units; llm.* allowed. */
async function heldAgent(): Promise<AgentWithKey> {
  const agent = await createAgentWithKey(server.client, await registerUser(server.client));
  await createPolicy(server.client, admin, {
    name: "payments need a human",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
      { pattern: "llm.*", effect: "ALLOW" },
    ],
    caps: [{ per: "AGENT", window: "DAY", limit: units(10) }],
  });
  return agent;
}

const submit = async (agent: AgentWithKey, action: string, cost: number) =>
  (await server.client.ok(SubmitAgentActionDocument, { input: { action, estimatedCost: units(cost) } }, agent.auth)).submitAgentAction;

describe("held actions", () => {
  it("announce action.pending_approval from the decision, then action.approved", async () => {
    const agent = await heldAgent();
    const held = await submit(agent, "payments.transfer", 4);
    expect(held.status).toBe("PENDING_APPROVAL");
    const pending = await eventOf("action.pending_approval", (data) => data.actionId === held.id);
    expect(pending.data).toMatchObject({ agentId: agent.id, ownerId: agent.ownerId, action: "payments.transfer", estimatedCost: units(4), status: "PENDING_APPROVAL" });
    expect(pending.data.reasons).toEqual([expect.objectContaining({ code: expect.any(String), message: expect.any(String) })]);
    expect(typeof pending.data.expiresAt).toBe("string");

    await server.client.ok(ApproveAgentActionDocument, { id: held.id }, { token: approver.accessToken });
    const approved = await eventOf("action.approved", (data) => data.actionId === held.id);
    expect(approved.data).toMatchObject({ status: "RESERVED", approvedBy: approver.user.id });
  });

  it("announce action.rejected when a person rejects, and when the re-decision on approval denies", async () => {
    const agent = await heldAgent();
    const rejectedHold = await submit(agent, "payments.refund", 1);
    await server.client.ok(RejectAgentActionDocument, { id: rejectedHold.id }, { token: approver.accessToken });
    const rejected = await eventOf("action.rejected", (data) => data.actionId === rejectedHold.id);
    expect(rejected.data).toMatchObject({ status: "REJECTED", reason: "REJECTED", decidedBy: approver.user.id });

    const big = await submit(agent, "payments.transfer", 8);
    await submit(agent, "llm.chat", 5); // the day cap (10) no longer has room for 8
    const denied = await server.client.request(ApproveAgentActionDocument, { id: big.id }, { token: approver.accessToken });
    expect(denied.errors?.[0]?.extensions?.code).toBe("POLICY_DENIED");
    const event = await eventOf("action.rejected", (data) => data.actionId === big.id);
    expect(event.data).toMatchObject({ status: "DENIED", reason: "DENIED_ON_APPROVAL", decidedBy: approver.user.id });
  });

  it("are decided at once while an endpoint that never answers is subscribed", async () => {
    await createEndpoint(server.client, admin, dead.url, ["action.pending_approval"]);
    const agent = await heldAgent();
    const started = Date.now();
    const held = await submit(agent, "payments.transfer", 2);
    const second = await submit(agent, "payments.transfer", 2);
    // Two decisions, each well inside the dead endpoint's 5 s timeout.
    expect(Date.now() - started).toBeLessThan(2_000);
    // The live endpoint gets both while the dead one holds its connections open.
    await eventOf("action.pending_approval", (data) => data.actionId === held.id);
    await eventOf("action.pending_approval", (data) => data.actionId === second.id);
    expect(dead.received).toHaveLength(0);
  });
});

describe("spend and runs", () => {
  it("announce spend.threshold_crossed once per threshold and window, and run.finished when a run ends", async () => {
    const agent = await createAgentWithKey(server.client, await registerUser(server.client));
    await createPolicy(server.client, admin, {
      name: "alerting budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(10), thresholds: [50] }],
    });
    const first = await submit(agent, "llm.chat", 6);
    const crossed = await eventOf("spend.threshold_crossed", (data) => data.agentId === agent.id);
    expect(crossed.data).toMatchObject({ actionId: first.id, threshold: 50, per: "AGENT", window: "DAY", limit: units(10), spent: units(6), measure: "COST" });
    // Released and crossed again in the same window: still one alert for that threshold.
    await server.client.ok(CancelAgentActionDocument, { id: first.id }, agent.auth);
    const second = await submit(agent, "llm.chat", 7);

    const { startRun } = await server.client.ok(StartRunDocument, { input: { name: "alerts" } }, agent.auth);
    await server.client.ok(FinishRunDocument, { id: startRun.id, status: "SUCCEEDED" }, agent.auth);
    const finished = await eventOf("run.finished", (data) => data.runId === startRun.id);
    expect(finished.data).toMatchObject({ agentId: agent.id, ownerId: agent.ownerId, status: "SUCCEEDED" });
    // The outbox is written with the decision: the second crossing of 50 % in this window wrote no event.
    const stored = await server.app.database.db.select().from(webhookEvents).where(eq(webhookEvents.type, "spend.threshold_crossed"));
    expect(stored.filter((event) => (event.data as { agentId?: string }).agentId === agent.id).map((event) => (event.data as { actionId: string }).actionId)).toEqual([first.id]);
    expect(second.decision).toBe("ALLOWED");
  });
});

describe("agents and accounts", () => {
  it("announce agent.suspended and agent_key.revoked", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    const keys = (await server.client.ok(`query ($id: ID!) { agentApiKeys(agentId: $id) { id prefix } }`, { id: agent.id }, { token: owner.accessToken })) as {
      agentApiKeys: { id: string; prefix: string }[];
    };
    const key = keys.agentApiKeys[0]!;
    await server.client.ok(`mutation ($id: ID!) { revokeAgentApiKey(id: $id) }`, { id: key.id }, { token: owner.accessToken });
    const revoked = await eventOf("agent_key.revoked", (data) => data.agentId === agent.id);
    expect(revoked.data).toEqual({ agentId: agent.id, ownerId: owner.user.id, keyId: key.id, prefix: key.prefix, revokedBy: owner.user.id });
    expect(JSON.stringify(revoked)).not.toContain(agent.key.split(".")[1]);

    await server.client.ok(`mutation ($id: ID!) { suspendAgent(id: $id) { id } }`, { id: agent.id }, { token: owner.accessToken });
    const suspended = await eventOf("agent.suspended", (data) => data.agentId === agent.id);
    expect(suspended.data).toEqual({ agentId: agent.id, ownerId: owner.user.id, suspendedBy: owner.user.id, releasedActions: 0 });
  });

  it("announce user.locked after repeated failed sign-ins", async () => {
    const user = await registerUser(server.client);
    for (let i = 0; i < 2; i += 1) await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: "wrong password here" } });
    const locked = await eventOf("user.locked", (data) => data.userId === user.user.id);
    expect(locked.data).toMatchObject({ lockoutLevel: 1 });
    expect(Date.parse(String(locked.data.lockedUntil))).toBeGreaterThan(Date.now());
  });

  it("announce refresh_token.reuse_detected without any token material", async () => {
    const user = await registerUser(server.client);
    const first = user.refreshToken!;
    const rotated = (await server.client.ok(RefreshDocument, { refreshToken: first })).refresh;
    const reuse = await server.client.request(RefreshDocument, { refreshToken: first });
    expect(reuse.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const event = await eventOf("refresh_token.reuse_detected", (data) => data.userId === user.user.id);
    expect(event.data).toEqual({ userId: user.user.id, sessionId: expect.any(String), sessionRevoked: true });
    for (const token of [first, rotated.refreshToken!]) {
      for (const part of token.split(".")) expect(JSON.stringify(event)).not.toContain(part);
    }
  });
});
