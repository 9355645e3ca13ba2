import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneTimeTokens, sessions, webhookEvents } from "../../src/db/schema";
import { AuditEventsDocument, LogoutDocument, RefreshDocument, RequestPasswordResetDocument, type SessionCredentialsFragment } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { createEndpoint, FAST_WEBHOOKS, untilDeliveries } from "../support/webhook-fixtures";

/**
 * Housekeeping deletes what ended longer ago than the retention (here one day), keeps what
 * is live or ended recently, and audits each run that deleted something as one event.
 */
const HOUR = 3_600_000;
const clock = new ManualClock();
let server: TestServer;
let receiver: WebhookReceiver;
let admin: SessionCredentialsFragment;

beforeAll(async () => {
  // No poll loop: the test delivers with runOnce, so a delivery it leaves alone stays pending.
  server = await startTestServer({ clock, env: { ...FAST_WEBHOOKS, WEBHOOK_POLL_INTERVAL: "0", HOUSEKEEPING_RETENTION: "1d" } });
  receiver = await startWebhookReceiver();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

const db = () => server.app.database.db;
const sessionIds = async (ids: string[]) => (await db().select({ id: sessions.id }).from(sessions).where(inArray(sessions.id, ids))).map((row) => row.id);
/** The housekeeping audit events, read by the admin (signed in afresh: the clock moves on). */
const housekeepingEvents = async () => {
  const { accessToken } = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  return (await server.client.ok(AuditEventsDocument, { filter: { action: "system.housekeeping" }, first: 50 }, { token: accessToken })).audit.edges.map((edge) => edge.node);
};

describe("housekeeping", () => {
  it("deletes sessions, one-time tokens and delivered webhook events that ended before the retention, and audits the run once", async () => {
    await createEndpoint(server.client, admin, receiver.url, ["refresh_token.reuse_detected"]);
    const user = await registerUser(server.client);
    const ended = await loginUser(server.client, user.user.email, user.password);
    await server.client.ok(LogoutDocument, {}, { token: ended.accessToken });
    await server.client.ok(RequestPasswordResetDocument, { email: user.user.email });
    // A refresh token presented twice: the session is revoked and the event goes out.
    const reused = await loginUser(server.client, user.user.email, user.password);
    await server.client.ok(RefreshDocument, { refreshToken: reused.refreshToken });
    clock.advance(2 * 60_000);
    await server.client.request(RefreshDocument, { refreshToken: reused.refreshToken });
    await server.app.webhookWorker.runOnce();
    await untilDeliveries(server.client, admin, {}, (rows) => rows.length === 1 && rows[0]!.status === "SUCCEEDED");
    const purposes = async () => (await db().select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, user.user.id))).map((row) => row.purpose).sort();
    expect(await purposes()).toEqual(["password_reset", "verify_email"]);

    // Nothing has been over for a day yet.
    expect(await server.app.services.housekeeping.run()).toEqual({ sessions: 0, oneTimeTokens: 0, webhookEvents: 0 });
    expect(await housekeepingEvents()).toHaveLength(0);

    // 25 hours on: the logged-out and the revoked sessions, the reset token (1h) and the
    // delivered event have been over for more than a day; the registration's session is
    // still live (used within its 7-day idle timeout), and the verification token (24h)
    // expired only an hour ago.
    clock.advance(25 * HOUR);
    const counts = await server.app.services.housekeeping.run();
    expect(counts).toEqual({ sessions: 2, oneTimeTokens: 1, webhookEvents: 1 });
    expect(await sessionIds([user.sessionId, ended.sessionId, reused.sessionId])).toEqual([user.sessionId]);
    expect(await purposes()).toEqual(["verify_email"]);
    expect(await db().select().from(webhookEvents)).toHaveLength(0);
    // The live session still refreshes.
    const refreshed = await server.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    expect(refreshed.errors).toBeUndefined();

    const [event, ...others] = await housekeepingEvents();
    expect(others).toHaveLength(0);
    expect(event).toMatchObject({ actorType: "SYSTEM", outcome: "SUCCESS", details: { deleted: { sessions: 2, oneTimeTokens: 1, webhookEvents: 1 } } });

    // A run with nothing to delete writes no event.
    expect(await server.app.services.housekeeping.run()).toEqual({ sessions: 0, oneTimeTokens: 0, webhookEvents: 0 });
    expect(await housekeepingEvents()).toHaveLength(1);
  });

  it("keeps an event whose delivery is still pending, however old", async () => {
    const eventIds = async () => (await db().select({ id: webhookEvents.id }).from(webhookEvents)).map((row) => row.id);
    const before = await eventIds();
    const user = await registerUser(server.client);
    await server.client.ok(RefreshDocument, { refreshToken: user.refreshToken });
    clock.advance(2 * 60_000);
    await server.client.request(RefreshDocument, { refreshToken: user.refreshToken });
    const [pending, ...more] = (await eventIds()).filter((id) => !before.includes(id));
    expect(pending).toBeDefined();
    expect(more).toHaveLength(0);
    // No worker ran: its delivery is still PENDING two days on.
    clock.advance(48 * HOUR);
    await server.app.services.housekeeping.run();
    expect(await eventIds()).toContain(pending);
  });
});
