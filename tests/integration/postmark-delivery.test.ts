import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { RequestPasswordResetDocument, VerifyEmailDocument } from "../generated/graphql";
import { registerUser } from "../support/fixtures";
import { startPostmarkStandIn, type PostmarkStandIn } from "../support/postmark-stand-in";
import { startTestServer, type TestServer } from "../support/test-server";

const TOKEN = "postmark-server-token-for-tests";
let postmark: PostmarkStandIn;
let server: TestServer;

beforeAll(async () => {
  postmark = await startPostmarkStandIn({ token: TOKEN });
  server = await startTestServer({
    env: { POSTMARK_SERVER_TOKEN: TOKEN, POSTMARK_API_URL: postmark.url, PUBLIC_URL: "https://app.example.test" },
  });
});
afterAll(async () => {
  await server.close();
  await postmark.close();
});

const sentTo = (address: string, tag: string) =>
  postmark.messages.filter((message) => message.body.To === address && message.body.Tag === tag);

describe("email through Postmark (the real client, a local stand-in)", () => {
  it("delivers the verification email with text and HTML bodies and a link to the web app's landing page that works", async () => {
    const user = await registerUser(server.client);
    const [message] = sentTo(user.user.email, "verify-email");
    expect(message?.headers["x-postmark-server-token"]).toBe(TOKEN);
    expect(message?.body).toMatchObject({ MessageStream: "outbound", Tag: "verify-email" });
    const text = String(message?.body.TextBody);
    expect(String(message?.body.HtmlBody)).toContain("https://app.example.test/app/verify-email?token=");
    const token = decodeURIComponent(/token=([^\s"&<]+)/.exec(text)?.[1] ?? "");
    expect((await server.client.ok(VerifyEmailDocument, { token })).verifyEmail).toBe(true);
  });

  it("answers a reset request the same when Postmark fails, and audits the failure", async () => {
    const user = await registerUser(server.client);
    postmark.failNext(1, 500);
    const response = await server.client.request(RequestPasswordResetDocument, { email: user.user.email });
    expect(response.errors).toBeUndefined();
    expect(response.data?.requestPasswordReset).toBe(true);
    await server.app.services.passwords.idle();
    expect(sentTo(user.user.email, "password-reset")).toHaveLength(0);
    const failures = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "email.delivery_failed"), eq(auditEvents.targetId, user.user.id)));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.details).toMatchObject({ tag: "password-reset", mailer: "postmark" });

    await server.client.ok(RequestPasswordResetDocument, { email: user.user.email });
    await server.app.services.passwords.idle();
    expect(sentTo(user.user.email, "password-reset")).toHaveLength(1);
  });
});
