import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { LoginDocument, MeDocument, RequestPasswordResetDocument, UnlockUserDocument } from "../generated/graphql";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { mailTo } from "../support/mailbox";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const clock = new ManualClock();
let server: TestServer;
let nextIp = 1;
/** Each test speaks from its own client ip (the server trusts X-Forwarded-For here). */
const fromNewIp = () => ({ headers: { "x-forwarded-for": `203.0.113.${nextIp++}` } });

beforeAll(async () => {
  server = await startTestServer({
    clock,
    env: {
      TRUST_PROXY: "true",
      RATE_LIMIT_SCALE: "1",
      LOCKOUT_THRESHOLD: "3",
      LOCKOUT_BASE: "10m",
      IP_FAILURE_LIMIT: "6",
    },
  });
});
afterAll(() => server.close());

const login = (identifier: string, password: string, options = fromNewIp()) =>
  server.client.request(LoginDocument, { input: { identifier, password } }, options);

describe("account lockout", () => {
  it("locks after repeated failures, even for the right password, mails the owner, and lifts later", async () => {
    const user = await registerUser(server.client, {}, fromNewIp());
    for (let i = 0; i < 3; i += 1) expect(errorCode(await login(user.user.email, "wrong password!"))).toBe("UNAUTHENTICATED");
    const locked = await login(user.user.email, PASSWORD);
    expect(errorCode(locked)).toBe("UNAUTHENTICATED");
    expect(locked.errors?.[0]?.message).toBe((await login(uniqueEmail(), PASSWORD)).errors?.[0]?.message);
    expect(await mailTo(server, user.user.email, "account-locked")).toHaveLength(1);
    const audit = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "auth.account.locked"), eq(auditEvents.targetId, user.user.id)));
    expect(audit).toHaveLength(1);

    clock.advance(10 * 60_000 + 1);
    expect(errorCode(await login(user.user.email, PASSWORD))).toBeUndefined();
  });

  it("doubles the lock each time, and an admin can unlock", async () => {
    const user = await registerUser(server.client, {}, fromNewIp());
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 3; i += 1) await login(user.user.email, "wrong password!");
      if (round === 0) clock.advance(10 * 60_000 + 1);
    }
    clock.advance(10 * 60_000 + 1);
    expect(errorCode(await login(user.user.email, PASSWORD))).toBe("UNAUTHENTICATED");

    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD, fromNewIp());
    const bystander = await registerUser(server.client, {}, fromNewIp());
    const refused = await server.client.request(UnlockUserDocument, { userId: user.user.id }, { token: bystander.accessToken });
    expect(errorCode(refused)).toBe("FORBIDDEN");
    await server.client.ok(UnlockUserDocument, { userId: user.user.id }, { token: admin.accessToken });
    expect(errorCode(await login(user.user.email, PASSWORD))).toBeUndefined();
  });
});

describe("throttling and rate limits", () => {
  it("throttles an ip that fails across many accounts", async () => {
    const ip = fromNewIp();
    for (let i = 0; i < 6; i += 1) expect(errorCode(await login(uniqueEmail("spray"), "guess-password", ip))).toBe("UNAUTHENTICATED");
    const throttled = await login(uniqueEmail("spray"), "guess-password", ip);
    expect(errorCode(throttled)).toBe("RATE_LIMITED");
    expect(throttled.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(errorCode(await login(uniqueEmail("spray"), "guess-password"))).toBe("UNAUTHENTICATED");
  });

  it("counts every aliased call in one request", async () => {
    const user = await registerUser(server.client, {}, fromNewIp());
    const calls = Array.from(
      { length: 12 },
      (_, i) => `a${i}: requestPasswordReset(email: ${JSON.stringify(user.user.email)})`,
    ).join("\n");
    const response = await server.client.raw(JSON.stringify({ query: `mutation { ${calls} }` }), fromNewIp());
    // Mutations run in order; the fourth call is refused, which ends the (non-null) request.
    expect(response.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(response.errors?.[0]?.path).toEqual(["a3"]);
    expect(await mailTo(server, user.user.email, "password-reset")).toHaveLength(3);
    const later = await server.client.request(RequestPasswordResetDocument, { email: user.user.email }, fromNewIp());
    expect(errorCode(later)).toBe("RATE_LIMITED");
  });

  it("holds exactly under concurrent requests", async () => {
    const email = uniqueEmail("burst");
    const ip = fromNewIp();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => server.client.request(RequestPasswordResetDocument, { email }, ip)),
    );
    expect(results.filter((result) => result.data?.requestPasswordReset === true)).toHaveLength(3);
    expect(results.filter((result) => errorCode(result) === "RATE_LIMITED")).toHaveLength(22);
  });
});

describe("sign-in notices", () => {
  it("mails the owner when a new device signs in, not when a known one does", async () => {
    const ip = fromNewIp();
    const user = await registerUser(server.client, {}, { headers: { ...ip.headers, "user-agent": "browser-A" } });
    await loginUser(server.client, user.user.email, PASSWORD, { headers: { ...ip.headers, "user-agent": "browser-A" } });
    expect(await mailTo(server, user.user.email, "new-sign-in")).toHaveLength(0);
    const fresh = await loginUser(server.client, user.user.email, PASSWORD, { headers: { ...ip.headers, "user-agent": "browser-B" } });
    const notices = await mailTo(server, user.user.email, "new-sign-in");
    expect(notices).toHaveLength(1);
    expect(notices[0]?.TextBody).toContain("browser-B");
    expect((await server.client.ok(MeDocument, {}, { token: fresh.accessToken })).me?.id).toBe(user.user.id);
  });
});
