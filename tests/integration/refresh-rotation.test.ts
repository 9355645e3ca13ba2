import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions } from "../../src/db/schema";
import { MeDocument, RefreshDocument } from "../generated/graphql";
import { registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ManualClock } from "../support/manual-clock";
import { startTestServer, type TestServer } from "../support/test-server";

const GRACE_MS = 10_000;
const IDLE_MS = 3_600_000;
const ABSOLUTE_MS = 4 * 3_600_000;

let server: TestServer;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
beforeAll(async () => {
  server = await startTestServer({
    clock,
    env: { REFRESH_REUSE_GRACE: "10s", SESSION_IDLE_TIMEOUT: "1h", SESSION_ABSOLUTE_LIFETIME: "4h", ACCESS_TOKEN_TTL: "15m" },
  });
});
afterAll(() => server.close());

async function sessionRow(id: string) {
  const [row] = await server.app.database.db.select().from(sessions).where(eq(sessions.id, id));
  return row;
}

describe("refresh token rotation", () => {
  it("rotates on every refresh; each new token works once", async () => {
    const { client } = server;
    const start = await registerUser(client);
    let token = start.refreshToken as string;
    const seen = new Set([token]);
    for (let i = 0; i < 3; i += 1) {
      clock.advance(60_000);
      const next = (await client.ok(RefreshDocument, { refreshToken: token })).refresh;
      expect(next.sessionId).toBe(start.sessionId);
      expect(seen.has(next.refreshToken as string)).toBe(false);
      seen.add(next.refreshToken as string);
      token = next.refreshToken as string;
    }
    const row = await sessionRow(start.sessionId);
    expect(row?.revokedAt).toBeNull();
    expect(row?.lastUsedAt.getTime()).toBe(clock.now().getTime());
  });

  it("lets two tabs refresh with the same token at once, and both get the same successor", async () => {
    const { client } = server;
    const start = await registerUser(client);
    const [tabA, tabB] = await Promise.all([
      client.request(RefreshDocument, { refreshToken: start.refreshToken }),
      client.request(RefreshDocument, { refreshToken: start.refreshToken }),
    ]);
    expect(tabA.errors).toBeUndefined();
    expect(tabB.errors).toBeUndefined();
    expect(tabA.data?.refresh.refreshToken).toBe(tabB.data?.refresh.refreshToken);

    // A retry inside the grace window also gets the successor; the chain stays whole.
    clock.advance(GRACE_MS - 1_000);
    const retried = await client.ok(RefreshDocument, { refreshToken: start.refreshToken });
    expect(retried.refresh.refreshToken).toBe(tabA.data?.refresh.refreshToken);
    const next = await client.ok(RefreshDocument, { refreshToken: retried.refresh.refreshToken });
    expect(next.refresh.sessionId).toBe(start.sessionId);
    expect((await sessionRow(start.sessionId))?.revokedAt).toBeNull();
  });

  it("gives a token reused in its grace window the chain's current token, however far it has moved", async () => {
    const { client } = server;
    const start = await registerUser(client);
    const first = await client.ok(RefreshDocument, { refreshToken: start.refreshToken });
    const second = await client.ok(RefreshDocument, { refreshToken: first.refresh.refreshToken });
    const late = await client.ok(RefreshDocument, { refreshToken: start.refreshToken });
    expect(late.refresh.refreshToken).toBe(second.refresh.refreshToken);
  });

  it("revokes the whole session when a rotated token comes back after the grace window", async () => {
    const { client } = server;
    const start = await registerUser(client);
    const stolen = start.refreshToken as string;
    const legit = await client.ok(RefreshDocument, { refreshToken: stolen });
    clock.advance(GRACE_MS + 1);

    const replay = await client.request(RefreshDocument, { refreshToken: stolen });
    expect(errorCode(replay)).toBe("UNAUTHENTICATED");
    expect(replay.errors?.[0]?.message).toMatch(/already used/);

    // The legitimate holder's tokens die with the session: refresh and access alike.
    const legitRefresh = await client.request(RefreshDocument, { refreshToken: legit.refresh.refreshToken });
    expect(errorCode(legitRefresh)).toBe("UNAUTHENTICATED");
    const legitAccess = await client.request(MeDocument, {}, { token: legit.refresh.accessToken });
    expect(errorCode(legitAccess)).toBe("UNAUTHENTICATED");

    const row = await sessionRow(start.sessionId);
    expect(row?.revokedReason).toBe("refresh_token_reuse");
    const events = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "auth.session.reuse_detected"));
    expect(events.some((event) => event.targetId === start.sessionId)).toBe(true);
  });

  it("refuses tokens that are malformed, unknown or carry a wrong secret", async () => {
    const { client } = server;
    const start = await registerUser(client);
    const [id] = (start.refreshToken as string).split(".");
    for (const bad of ["", "garbage", `${id}.wrongsecretwrongsecretwrongsecretwrongsec`, "a.b.c", "x".repeat(5_000)]) {
      const response = await client.request(RefreshDocument, { refreshToken: bad });
      expect(errorCode(response)).toBe("UNAUTHENTICATED");
    }
    // The wrong secret did not burn the real token.
    expect((await client.ok(RefreshDocument, { refreshToken: start.refreshToken })).refresh.sessionId).toBe(start.sessionId);
  });
});

describe("session lifetime", () => {
  it("ends a session left idle past the idle timeout", async () => {
    const { client } = server;
    const start = await registerUser(client);
    clock.advance(IDLE_MS + 1);
    const response = await client.request(RefreshDocument, { refreshToken: start.refreshToken });
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
    expect(response.errors?.[0]?.message).toMatch(/ended/);
  });

  it("ends a session at its absolute lifetime even when refreshed all along", async () => {
    const { client } = server;
    const createdAt = clock.now().getTime();
    const start = await registerUser(client);
    let token = start.refreshToken as string;
    let elapsed = 0;
    while (elapsed + IDLE_MS / 2 < ABSOLUTE_MS) {
      clock.advance(IDLE_MS / 2);
      elapsed += IDLE_MS / 2;
      const next = await client.ok(RefreshDocument, { refreshToken: token });
      token = next.refresh.refreshToken as string;
      expect(new Date(next.refresh.refreshTokenExpiresAt).getTime()).toBeLessThanOrEqual(createdAt + ABSOLUTE_MS);
    }
    clock.advance(ABSOLUTE_MS - elapsed + 1);
    const response = await client.request(RefreshDocument, { refreshToken: token });
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
  });

  it("refuses an access token once it expires, and the refreshed one works", async () => {
    const { client } = server;
    const start = await registerUser(client);
    clock.advance(15 * 60_000 + 1_000);
    expect(errorCode(await client.request(MeDocument, {}, { token: start.accessToken }))).toBe("UNAUTHENTICATED");
    const next = await client.ok(RefreshDocument, { refreshToken: start.refreshToken });
    expect((await client.ok(MeDocument, {}, { token: next.refresh.accessToken })).me?.id).toBe(start.user.id);
  });
});
