import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { LoginDocument, RequestPasswordResetDocument, ResendVerificationEmailDocument, ResetPasswordDocument, VerifyEmailDocument } from "../generated/graphql";
import { as } from "../support/assertions";
import { registerUser } from "../support/fixtures";
import { closedPort, startSilentServer, startSmtpReceiver, type SmtpReceiver } from "../support/smtp-receiver";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Account email over SMTP (nodemailer), to a real SMTP server the test starts on 127.0.0.1:
 * the settings existing deployments use (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD,
 * SMTP_FROM_EMAIL, SMTP_FROM_NAME), the sender and links as sent, and an SMTP server that
 * refuses, is down or hangs: the flow answers as always, the failure is logged and audited.
 */
const CREDENTIALS = { username: "mailer@id.example.test", password: "smtp-password-for-tests" };
const smtpEnv = (port: number, extra: Record<string, string> = {}) => ({
  SMTP_HOST: "127.0.0.1",
  SMTP_PORT: String(port),
  // The receiver has no certificate; STARTTLS is required by default (see the last test).
  SMTP_SECURITY: "none",
  SMTP_FROM_EMAIL: "no-reply@id.example.test",
  SMTP_FROM_NAME: "Agent Identity Test",
  SMTP_TIMEOUT: "2s",
  PUBLIC_URL: "https://app.example.test",
  ...extra,
});

const tokenIn = (text: string) => decodeURIComponent(/token=([^\s"&<]+)/.exec(text)?.[1] ?? "");

async function deliveryFailures(server: TestServer, userId: string) {
  return server.app.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.action, "email.delivery_failed"), eq(auditEvents.targetId, userId)));
}

describe("email over SMTP with AUTH", () => {
  let receiver: SmtpReceiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startSmtpReceiver({ credentials: CREDENTIALS });
    server = await startTestServer({ env: smtpEnv(receiver.port, { SMTP_USERNAME: CREDENTIALS.username, SMTP_PASSWORD: CREDENTIALS.password }) });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  const sentTo = (address: string, subject: RegExp) => receiver.messages.filter((mail) => mail.envelope.to.includes(address) && subject.test(mail.subject));

  it("sends the verification email from SMTP_FROM_NAME <SMTP_FROM_EMAIL>, signed in as SMTP_USERNAME, with a link that works", async () => {
    const user = await registerUser(server.client);
    const [mail] = sentTo(user.user.email, /^Verify your email address/);
    expect(mail).toMatchObject({
      user: CREDENTIALS.username,
      envelope: { from: "no-reply@id.example.test", to: [user.user.email] },
      from: "Agent Identity Test <no-reply@id.example.test>",
      to: user.user.email,
    });
    expect(mail?.html).toContain("https://app.example.test/app/verify-email?token=");
    expect(mail?.text).toContain("https://app.example.test/app/verify-email?token=");
    expect((await server.client.ok(VerifyEmailDocument, { token: tokenIn(mail?.text ?? "") })).verifyEmail).toBe(true);
  });

  it("sends a password reset whose link sets the new password", async () => {
    const user = await registerUser(server.client);
    expect((await server.client.ok(RequestPasswordResetDocument, { email: user.user.email })).requestPasswordReset).toBe(true);
    await server.app.services.passwords.idle();
    const [mail] = sentTo(user.user.email, /^Reset your .* password$/);
    expect(mail?.text).toContain("https://app.example.test/app/reset-password?token=");
    const newPassword = "a brand new passphrase 42";
    await server.client.ok(ResetPasswordDocument, { token: tokenIn(mail?.text ?? ""), newPassword });
    const login = await server.client.ok(LoginDocument, { input: { identifier: user.user.email, password: newPassword } });
    expect(login.login.__typename).toBe("AuthPayload");
  });
});

describe("when SMTP fails, the flow answers as always and the failure is audited", () => {
  async function failingServer(port: number, extra: Record<string, string> = {}) {
    return startTestServer({ env: smtpEnv(port, extra) });
  }

  async function expectAuditedResetFailure(server: TestServer) {
    const user = await registerUser(server.client);
    const response = await server.client.request(RequestPasswordResetDocument, { email: user.user.email });
    expect(response.errors).toBeUndefined();
    expect(response.data?.requestPasswordReset).toBe(true);
    const resend = await server.client.request(ResendVerificationEmailDocument, {}, as(user));
    expect(resend.data?.resendVerificationEmail).toBe(true);
    await server.app.services.passwords.idle();
    const failures = await deliveryFailures(server, user.user.id);
    expect(failures.map((row) => row.details).sort((a, b) => String((a as { tag: string }).tag).localeCompare(String((b as { tag: string }).tag)))).toEqual([
      { tag: "password-reset", mailer: "smtp" },
      { tag: "verify-email", mailer: "smtp" },
      { tag: "verify-email", mailer: "smtp" },
    ]);
  }

  it("refused credentials", async () => {
    const receiver = await startSmtpReceiver({ credentials: CREDENTIALS });
    const server = await failingServer(receiver.port, { SMTP_USERNAME: CREDENTIALS.username, SMTP_PASSWORD: "the-wrong-password" });
    try {
      await expectAuditedResetFailure(server);
      expect(receiver.messages).toEqual([]);
      expect(receiver.refusals.length).toBeGreaterThan(0);
    } finally {
      await server.close();
      await receiver.close();
    }
  });

  it("nothing listening on SMTP_PORT", async () => {
    const server = await failingServer(await closedPort());
    try {
      await expectAuditedResetFailure(server);
    } finally {
      await server.close();
    }
  });

  it("a server that accepts the connection and never greets: SMTP_TIMEOUT ends the wait", async () => {
    const silent = await startSilentServer();
    const server = await failingServer(silent.port, { SMTP_TIMEOUT: "300ms" });
    try {
      await expectAuditedResetFailure(server);
    } finally {
      await server.close();
      await silent.close();
    }
  });

  it("STARTTLS is required by default: a server that does not offer it gets no credentials and no message", async () => {
    const receiver = await startSmtpReceiver({ credentials: CREDENTIALS });
    const env: Record<string, string> = smtpEnv(receiver.port, { SMTP_USERNAME: CREDENTIALS.username, SMTP_PASSWORD: CREDENTIALS.password });
    delete env.SMTP_SECURITY;
    const server = await startTestServer({ env });
    try {
      await expectAuditedResetFailure(server);
      expect(receiver.messages).toEqual([]);
      expect(receiver.refusals).toEqual([]);
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});
