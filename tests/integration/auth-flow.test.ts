import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions, users } from "../../src/db/schema";
import { LoginDocument, LogoutDocument, MeDocument, RefreshDocument, SessionsDocument } from "../generated/graphql";
import { registerUser, uniqueEmail, uniqueUsername, loginUser, PASSWORD } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function auditActionsFor(targetOrActor: string): Promise<string[]> {
  const rows = await server.app.database.db.select().from(auditEvents).orderBy(auditEvents.seq);
  return rows.filter((row) => row.actorId === targetOrActor || row.targetId === targetOrActor).map((row) => row.action);
}

describe("the login loop", () => {
  it("registers, sees itself, logs in by email and username, refreshes and logs out", async () => {
    const { client } = server;
    const email = uniqueEmail("loop");
    const username = uniqueUsername("loop");
    const registered = await registerUser(client, { email, username });
    expect(registered.user).toMatchObject({ email, username, roles: ["USER"] });
    expect(registered.refreshToken).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(new Date(registered.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());

    const me = await client.ok(MeDocument, {}, { token: registered.accessToken });
    expect(me.me).toMatchObject({ id: registered.user.id, email, username, status: "ACTIVE", emailVerified: false });

    const byEmail = await loginUser(client, email.toUpperCase());
    const byUsername = await loginUser(client, username);
    expect(byEmail.user.id).toBe(registered.user.id);
    expect(byUsername.user.id).toBe(registered.user.id);
    expect(byEmail.sessionId).not.toBe(byUsername.sessionId);

    const refreshed = await client.ok(RefreshDocument, { refreshToken: byEmail.refreshToken });
    expect(refreshed.refresh.sessionId).toBe(byEmail.sessionId);
    expect(refreshed.refresh.refreshToken).not.toBe(byEmail.refreshToken);
    expect(refreshed.refresh.accessToken).not.toBe(byEmail.accessToken);

    const mySessions = await client.ok(SessionsDocument, {}, { token: refreshed.refresh.accessToken });
    expect(mySessions.sessions.map((session) => session.id).sort()).toEqual(
      [registered.sessionId, byEmail.sessionId, byUsername.sessionId].sort(),
    );
    expect(mySessions.sessions.find((session) => session.current)?.id).toBe(byEmail.sessionId);

    expect((await client.ok(LogoutDocument, {}, { token: refreshed.refresh.accessToken })).logout).toBe(true);
    const after = await client.request(MeDocument, {}, { token: refreshed.refresh.accessToken });
    expect(errorCode(after)).toBe("UNAUTHENTICATED");
    const refreshAfterLogout = await client.request(RefreshDocument, { refreshToken: refreshed.refresh.refreshToken });
    expect(errorCode(refreshAfterLogout)).toBe("UNAUTHENTICATED");

    // The other sessions of the same user are untouched by this logout.
    const other = await client.ok(MeDocument, {}, { token: byUsername.accessToken });
    expect(other.me?.id).toBe(registered.user.id);

    const [ended] = await server.app.database.db.select().from(sessions).where(eq(sessions.id, byEmail.sessionId));
    expect(ended?.revokedReason).toBe("logout");
    expect(await auditActionsFor(registered.user.id)).toEqual(
      expect.arrayContaining(["auth.register", "auth.login.succeeded", "auth.token.refreshed", "auth.logout"]),
    );
  });

  it("answers me with null for an anonymous caller", async () => {
    const response = await server.client.request(MeDocument);
    expect(response.errors).toBeUndefined();
    expect(response.data?.me).toBeNull();
  });

  it("refuses a wrong password and an unknown account with the same answer, and audits both", async () => {
    const { client } = server;
    const email = uniqueEmail("wrong");
    const { user } = await registerUser(client, { email });
    const wrongPassword = await client.request(LoginDocument, { input: { identifier: email, password: "not the password" } });
    const unknownUser = await client.request(LoginDocument, {
      input: { identifier: uniqueEmail("nobody"), password: "not the password" },
    });
    expect(errorCode(wrongPassword)).toBe("UNAUTHENTICATED");
    expect(wrongPassword.errors?.[0]?.message).toBe(unknownUser.errors?.[0]?.message);
    expect(errorCode(unknownUser)).toBe("UNAUTHENTICATED");

    const failures = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "auth.login.failed"), eq(auditEvents.targetId, user.id)));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.outcome).toBe("failure");
    expect(JSON.stringify(failures[0]?.details)).not.toContain("not the password");
  });

  it("records ip, user agent and request id on sessions and audit rows", async () => {
    const requestId = "test-request-0001";
    const registered = await registerUser(server.client, {}, { headers: { "user-agent": "vitest-agent/1.0", "x-request-id": requestId } });
    const [session] = await server.app.database.db.select().from(sessions).where(eq(sessions.id, registered.sessionId));
    expect(session?.userAgent).toBe("vitest-agent/1.0");
    expect(session?.ip).toMatch(/127\.0\.0\.1/);
    const [event] = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "auth.register"), eq(auditEvents.targetId, registered.user.id)));
    expect(event).toMatchObject({ requestId, userAgent: "vitest-agent/1.0", actorType: "user", actorId: registered.user.id });
  });

  it("created the bootstrap admin from the environment, once", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(admin.user.roles).toEqual(expect.arrayContaining(["ADMIN", "MANAGER", "COMPLIANCE_OFFICER", "USER"]));
    const admins = await server.app.database.db.select().from(users).where(eq(users.email, ADMIN_EMAIL));
    expect(admins).toHaveLength(1);
    expect(server.app.bootstrap).toMatchObject({ created: true, email: ADMIN_EMAIL });
    expect(PASSWORD).not.toBe(ADMIN_PASSWORD);
  });

  it("lets users:read holders list anyone's sessions, and nobody else", async () => {
    const { client } = server;
    const alice = await registerUser(client);
    const bob = await registerUser(client);
    const denied = await client.request(SessionsDocument, { userId: alice.user.id }, { token: bob.accessToken });
    expect(errorCode(denied)).toBe("FORBIDDEN");
    const admin = await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const allowed = await client.ok(SessionsDocument, { userId: alice.user.id }, { token: admin.accessToken });
    expect(allowed.sessions.map((session) => session.id)).toEqual([alice.sessionId]);
    const anonymous = await client.request(SessionsDocument, {});
    expect(errorCode(anonymous)).toBe("UNAUTHENTICATED");
  });
});
