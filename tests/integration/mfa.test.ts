import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCodeAt } from "../../src/auth/totp";
import {
  BeginMfaEnrollmentDocument,
  CompleteMfaLoginDocument,
  ConfirmMfaEnrollmentDocument,
  DisableMfaDocument,
  LoginDocument,
  MeDocument,
  SessionsDocument,
} from "../generated/graphql";
import { loginUser, PASSWORD, registerUser } from "../support/fixtures";
import { errorCode, type GraphQLClient } from "../support/graphql-client";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const STEP = 30_000;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock, env: { MFA_REQUIRED_ROLES: "ADMIN" } });
});
afterAll(() => server.close());

async function enrol(client: GraphQLClient, token: string) {
  const { beginMfaEnrollment } = await client.ok(BeginMfaEnrollmentDocument, {}, { token });
  expect(beginMfaEnrollment.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
  const wrong = await client.request(ConfirmMfaEnrollmentDocument, { code: "000000" }, { token });
  expect(errorCode(wrong)).toBe("BAD_USER_INPUT");
  const code = totpCodeAt(beginMfaEnrollment.secret, clock.now());
  const { confirmMfaEnrollment } = await client.ok(ConfirmMfaEnrollmentDocument, { code }, { token });
  return { secret: beginMfaEnrollment.secret, recoveryCodes: confirmMfaEnrollment.recoveryCodes };
}

async function challenge(client: GraphQLClient, email: string) {
  const { login } = await client.ok(LoginDocument, { input: { identifier: email, password: PASSWORD } });
  if (login.__typename !== "MfaChallenge") throw new Error("expected an MFA challenge");
  return login.challengeToken;
}

describe("TOTP multi-factor sign-in", () => {
  it("enrols, then asks for a code at sign-in; each code works once", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const { secret, recoveryCodes } = await enrol(client, user.accessToken);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await client.ok(MeDocument, {}, { token: user.accessToken })).me?.mfaEnabled).toBe(true);

    clock.advance(STEP);
    const code = totpCodeAt(secret, clock.now());
    const first = await challenge(client, user.user.email);
    const signedIn = await client.ok(CompleteMfaLoginDocument, { input: { challengeToken: first, code } });
    expect(signedIn.completeMfaLogin.user.id).toBe(user.user.id);

    // The same code again, on a fresh challenge, in the same 30 s step: refused.
    const second = await challenge(client, user.user.email);
    const replay = await client.request(CompleteMfaLoginDocument, { input: { challengeToken: second, code } });
    expect(errorCode(replay)).toBe("UNAUTHENTICATED");
    // A used challenge cannot be completed twice either.
    clock.advance(STEP);
    const reuse = await client.request(CompleteMfaLoginDocument, {
      input: { challengeToken: first, code: totpCodeAt(secret, clock.now()) },
    });
    expect(errorCode(reuse)).toBe("UNAUTHENTICATED");
  });

  it("accepts each recovery code once instead of a code", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const { recoveryCodes } = await enrol(client, user.accessToken);
    const recoveryCode = (recoveryCodes[0] as string).toUpperCase();
    const ok = await client.ok(CompleteMfaLoginDocument, {
      input: { challengeToken: await challenge(client, user.user.email), recoveryCode },
    });
    expect(ok.completeMfaLogin.user.id).toBe(user.user.id);
    const again = await client.request(CompleteMfaLoginDocument, {
      input: { challengeToken: await challenge(client, user.user.email), recoveryCode },
    });
    expect(errorCode(again)).toBe("UNAUTHENTICATED");
  });

  it("expires challenges, and can be turned off with the password", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const { secret } = await enrol(client, user.accessToken);
    const token = await challenge(client, user.user.email);
    clock.advance(5 * 60_000 + STEP);
    const late = await client.request(CompleteMfaLoginDocument, {
      input: { challengeToken: token, code: totpCodeAt(secret, clock.now()) },
    });
    expect(errorCode(late)).toBe("UNAUTHENTICATED");

    const wrong = await client.request(DisableMfaDocument, { password: "not the password" }, { token: user.accessToken });
    expect(errorCode(wrong)).toBe("BAD_USER_INPUT");
    expect((await client.ok(DisableMfaDocument, { password: PASSWORD }, { token: user.accessToken })).disableMfa).toBe(true);
    expect((await loginUser(client, user.user.email)).user.id).toBe(user.user.id);
  });
});

describe("MFA required for a role", () => {
  it("restricts an admin without MFA to enrolment, then lifts the restriction", async () => {
    const { client } = server;
    const other = await registerUser(client);
    const admin = await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(admin.restriction).toBe("MFA_ENROLLMENT");
    const blocked = await client.request(SessionsDocument, { userId: other.user.id }, { token: admin.accessToken });
    expect(errorCode(blocked)).toBe("FORBIDDEN");

    const { secret } = await enrol(client, admin.accessToken);
    const allowed = await client.ok(SessionsDocument, { userId: other.user.id }, { token: admin.accessToken });
    expect(allowed.sessions).toHaveLength(1);
    const refusal = await client.request(DisableMfaDocument, { password: ADMIN_PASSWORD }, { token: admin.accessToken });
    expect(errorCode(refusal)).toBe("FORBIDDEN");

    // From now on the admin's sign-in asks for the second factor.
    const { login } = await client.ok(LoginDocument, { input: { identifier: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(login.__typename).toBe("MfaChallenge");
    if (login.__typename !== "MfaChallenge") return;
    clock.advance(STEP);
    const done = await client.ok(CompleteMfaLoginDocument, {
      input: { challengeToken: login.challengeToken, code: totpCodeAt(secret, clock.now()) },
    });
    expect(done.completeMfaLogin.restriction).toBeNull();
  });
});
