import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfirmEmailChangeDocument,
  MeDocument,
  RequestEmailChangeDocument,
  ResendVerificationEmailDocument,
  SessionsDocument,
  VerifyEmailDocument,
} from "../generated/graphql";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { mailTo, tokenFromMail } from "../support/mailbox";
import { startTestServer, type TestServer } from "../support/test-server";

describe("email verification (unverified users may sign in)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("mails a link on register; using it verifies the address, once", async () => {
    const { client } = server;
    const user = await registerUser(client);
    expect(user.restriction).toBeNull();
    const mail = await mailTo(server, user.user.email, "verify-email");
    expect(mail).toHaveLength(1);
    // The link opens the web app's landing page (PUBLIC_URL/app by default), which posts the token back.
    expect(mail[0]?.HtmlBody).toContain("http://localhost:4000/app/verify-email?token=");
    const token = await tokenFromMail(server, user.user.email, "verify-email");
    expect((await client.ok(VerifyEmailDocument, { token })).verifyEmail).toBe(true);
    expect((await client.ok(MeDocument, {}, { token: user.accessToken })).me?.emailVerified).toBe(true);
    expect(errorCode(await client.request(VerifyEmailDocument, { token }))).toBe("BAD_USER_INPUT");
  });

  it("resends a fresh link and voids the old one", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const first = await tokenFromMail(server, user.user.email, "verify-email");
    await client.ok(ResendVerificationEmailDocument, {}, { token: user.accessToken });
    const second = await tokenFromMail(server, user.user.email, "verify-email");
    expect(second).not.toBe(first);
    expect(errorCode(await client.request(VerifyEmailDocument, { token: first }))).toBe("BAD_USER_INPUT");
    expect((await client.ok(VerifyEmailDocument, { token: second })).verifyEmail).toBe(true);
  });

  it("changes the email only after the new address confirms, and tells the old one", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const newEmail = uniqueEmail("moved");
    const badPassword = await client.request(
      RequestEmailChangeDocument,
      { newEmail, password: "wrong password here" },
      { token: user.accessToken },
    );
    expect(errorCode(badPassword)).toBe("BAD_USER_INPUT");
    await client.ok(RequestEmailChangeDocument, { newEmail, password: PASSWORD }, { token: user.accessToken });
    expect((await client.ok(MeDocument, {}, { token: user.accessToken })).me?.email).toBe(user.user.email);

    const token = await tokenFromMail(server, newEmail, "email-change-verify");
    await client.ok(ConfirmEmailChangeDocument, { token });
    const me = (await client.ok(MeDocument, {}, { token: user.accessToken })).me;
    expect(me).toMatchObject({ email: newEmail, emailVerified: true });
    expect(await mailTo(server, user.user.email, "email-changed")).toHaveLength(1);
    await loginUser(client, newEmail);
  });
});

describe("REQUIRE_VERIFIED_EMAIL=true", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { REQUIRE_VERIFIED_EMAIL: "true" } });
  });
  afterAll(() => server.close());

  it("gives unverified users a session that can only verify, until they do", async () => {
    const { client } = server;
    const user = await registerUser(client);
    expect(user.restriction).toBe("EMAIL_VERIFICATION");
    const blocked = await client.request(
      RequestEmailChangeDocument,
      { newEmail: uniqueEmail(), password: PASSWORD },
      { token: user.accessToken },
    );
    expect(errorCode(blocked)).toBe("FORBIDDEN");
    expect(blocked.errors?.[0]?.extensions?.restriction).toBe("EMAIL_VERIFICATION");
    expect(errorCode(await client.request(SessionsDocument, {}, { token: user.accessToken }))).toBe("FORBIDDEN");
    expect((await client.ok(MeDocument, {}, { token: user.accessToken })).me?.emailVerified).toBe(false);
    expect((await loginUser(client, user.user.email)).restriction).toBe("EMAIL_VERIFICATION");

    await client.ok(VerifyEmailDocument, { token: await tokenFromMail(server, user.user.email, "verify-email") });
    const allowed = await client.request(
      RequestEmailChangeDocument,
      { newEmail: uniqueEmail(), password: PASSWORD },
      { token: user.accessToken },
    );
    expect(allowed.errors).toBeUndefined();
    expect((await loginUser(client, user.user.email)).restriction).toBeNull();
  });
});
