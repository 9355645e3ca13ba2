import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import {
  ChangePasswordDocument,
  LoginDocument,
  MeDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
  SessionsDocument,
} from "../generated/graphql";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { mailTo, tokenFromMail } from "../support/mailbox";
import { ManualClock } from "../support/manual-clock";
import { startTestServer, type TestServer } from "../support/test-server";

const NEW_PASSWORD = "violet staircase under moonlight";
const clock = new ManualClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock, env: { PASSWORD_HISTORY: "2" } });
});
afterAll(() => server.close());

describe("password reset", () => {
  it("answers the same for an unknown address and mails nothing", async () => {
    const nobody = uniqueEmail("nobody");
    const response = await server.client.request(RequestPasswordResetDocument, { email: nobody });
    expect(response.errors).toBeUndefined();
    expect(response.data?.requestPasswordReset).toBe(true);
    expect(await mailTo(server, nobody)).toEqual([]);
  });

  it("mails a single-use link; the reset ends every session and the old password", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const other = await loginUser(client, user.user.email);
    expect((await client.ok(RequestPasswordResetDocument, { email: user.user.email })).requestPasswordReset).toBe(true);
    const token = await tokenFromMail(server, user.user.email, "password-reset");

    expect((await client.ok(ResetPasswordDocument, { token, newPassword: NEW_PASSWORD })).resetPassword).toBe(true);
    for (const session of [user, other]) {
      expect(errorCode(await client.request(MeDocument, {}, { token: session.accessToken }))).toBe("UNAUTHENTICATED");
    }
    const oldLogin = await client.request(LoginDocument, { input: { identifier: user.user.email, password: PASSWORD } });
    expect(errorCode(oldLogin)).toBe("UNAUTHENTICATED");
    await loginUser(client, user.user.email, NEW_PASSWORD);

    const again = await client.request(ResetPasswordDocument, { token, newPassword: "another fresh passphrase 42" });
    expect(errorCode(again)).toBe("BAD_USER_INPUT");
    expect(again.errors?.[0]?.extensions?.field).toBe("token");
    expect((await mailTo(server, user.user.email, "password-changed")).length).toBe(1);
    const audited = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "auth.password.reset"), eq(auditEvents.targetId, user.user.id)));
    expect(audited[0]?.details).toMatchObject({ sessionsRevoked: 2 });
  });

  it("voids an older link when a new one is requested, and links expire", async () => {
    const { client } = server;
    const user = await registerUser(client);
    await client.ok(RequestPasswordResetDocument, { email: user.user.email });
    const first = await tokenFromMail(server, user.user.email, "password-reset");
    await client.ok(RequestPasswordResetDocument, { email: user.user.email });
    const second = await tokenFromMail(server, user.user.email, "password-reset");
    expect(second).not.toBe(first);
    expect(errorCode(await client.request(ResetPasswordDocument, { token: first, newPassword: NEW_PASSWORD }))).toBe("BAD_USER_INPUT");

    clock.advance(60 * 60_000 + 1);
    expect(errorCode(await client.request(ResetPasswordDocument, { token: second, newPassword: NEW_PASSWORD }))).toBe(
      "BAD_USER_INPUT",
    );
    await loginUser(client, user.user.email, PASSWORD);
  });

  it("enforces the password policy and names the broken rule, leaving the token usable", async () => {
    const { client } = server;
    const user = await registerUser(client);
    await client.ok(RequestPasswordResetDocument, { email: user.user.email });
    const token = await tokenFromMail(server, user.user.email, "password-reset");
    const cases: [string, RegExp][] = [
      ["Password123!", /common/i],
      ["short", /at least 10/],
      [`${user.user.email.split("@")[0]}-rocks`, /email or username/],
      [PASSWORD, /differ from your last/],
    ];
    for (const [password, rule] of cases) {
      const refused = await client.request(ResetPasswordDocument, { token, newPassword: password });
      expect(errorCode(refused), password).toBe("BAD_USER_INPUT");
      expect(refused.errors?.[0]?.message).toMatch(rule);
      expect(refused.errors?.[0]?.extensions?.field).toBe("newPassword");
      expect(JSON.stringify(refused.errors)).not.toContain(password);
    }
    expect((await client.ok(ResetPasswordDocument, { token, newPassword: NEW_PASSWORD })).resetPassword).toBe(true);
  });
});

describe("changing the password", () => {
  it("needs the current password, ends the other sessions, and refuses recent passwords", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const other = await loginUser(client, user.user.email);
    const wrong = await client.request(
      ChangePasswordDocument,
      { currentPassword: "not my password", newPassword: NEW_PASSWORD },
      { token: user.accessToken },
    );
    expect(errorCode(wrong)).toBe("BAD_USER_INPUT");
    expect(wrong.errors?.[0]?.extensions?.field).toBe("currentPassword");

    await client.ok(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { token: user.accessToken });
    expect((await client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);
    expect(errorCode(await client.request(MeDocument, {}, { token: other.accessToken }))).toBe("UNAUTHENTICATED");

    const back = await client.request(
      ChangePasswordDocument,
      { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
      { token: user.accessToken },
    );
    expect(errorCode(back)).toBe("BAD_USER_INPUT");
    expect(back.errors?.[0]?.message).toMatch(/differ from your last 3 passwords/);
  });
});

describe("PASSWORD_MAX_AGE", () => {
  const agingClock = new ManualClock();
  let aging: TestServer;
  beforeAll(async () => {
    aging = await startTestServer({ clock: agingClock, env: { PASSWORD_MAX_AGE: "90d" } });
  });
  afterAll(() => aging.close());

  it("makes an old password's session change it before anything else works", async () => {
    const { client } = aging;
    const user = await registerUser(client);
    expect((await loginUser(client, user.user.email)).restriction).toBeNull();
    agingClock.advance(91 * 86_400_000);
    const stale = await loginUser(client, user.user.email);
    expect(stale.restriction).toBe("PASSWORD_CHANGE");
    const blocked = await client.request(SessionsDocument, {}, { token: stale.accessToken });
    expect(errorCode(blocked)).toBe("FORBIDDEN");
    expect(blocked.errors?.[0]?.extensions?.restriction).toBe("PASSWORD_CHANGE");

    await client.ok(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { token: stale.accessToken });
    expect((await client.ok(SessionsDocument, {}, { token: stale.accessToken })).sessions.length).toBeGreaterThan(0);
    expect((await loginUser(client, user.user.email, NEW_PASSWORD)).restriction).toBeNull();
  });
});
