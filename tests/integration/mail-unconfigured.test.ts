import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginDocument, MeDocument, RegisterDocument, RequestEmailChangeDocument, RequestPasswordResetDocument, ResendVerificationEmailDocument } from "../generated/graphql";
import { createLogger } from "../../src/logging/logger";
import { as } from "../support/assertions";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode, type GraphQLResponse } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Production with no mail transport: the server starts and everything that needs no email
 * works; the flows whose point is a message answer SERVICE_UNAVAILABLE, the same for every
 * address (known or not), write nothing and leave no outbox; the start says so once.
 */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

const unavailable = (response: GraphQLResponse<unknown>) => ({ code: errorCode(response), message: response.errors?.[0]?.message });
const NO_TRANSPORT = { code: "SERVICE_UNAVAILABLE", message: "Email cannot be sent: this server has no mail transport configured" };

describe("NODE_ENV=production with no mail transport", () => {
  const log = capturedLogger();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production" }, logger: log.logger });
  });
  afterAll(() => server.close());

  it("starts, says once that mail is not configured, and serves what needs no email", async () => {
    const warnings = log.lines.filter((line) => line.includes("mail is not configured"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: "warn" });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const user = await registerUser(server.client);
    expect((await server.client.ok(MeDocument, {}, as(user))).me?.emailVerified).toBe(false);
    expect((await loginUser(server.client, user.user.email)).user.id).toBe(user.user.id);
    expect(fs.existsSync(path.join(server.dataDir, "outbox"))).toBe(false);
  });

  it("answers a password reset alike for any address, known or not", async () => {
    const user = await registerUser(server.client);
    for (const email of [user.user.email, uniqueEmail("nobody"), ADMIN_EMAIL]) {
      expect(unavailable(await server.client.request(RequestPasswordResetDocument, { email }))).toEqual(NO_TRANSPORT);
    }
    // Malformed input is still a field error: it says nothing about accounts.
    expect(errorCode(await server.client.request(RequestPasswordResetDocument, { email: "not-an-email" }))).toBe("BAD_USER_INPUT");
  });

  it("refuses resending the verification link and changing the email address", async () => {
    const user = await registerUser(server.client);
    expect(unavailable(await server.client.request(ResendVerificationEmailDocument, {}, as(user)))).toEqual(NO_TRANSPORT);
    const change = await server.client.request(RequestEmailChangeDocument, { newEmail: uniqueEmail("moved"), password: PASSWORD }, as(user));
    expect(unavailable(change)).toEqual(NO_TRANSPORT);
  });

  it("refuses an invitation before creating the account; a user created with a password needs none", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const invited = uniqueEmail("invited");
    const create = (input: Record<string, unknown>) =>
      server.client.request(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input }, as(admin));
    expect(unavailable(await create({ email: invited }))).toEqual(NO_TRANSPORT);
    expect(unavailable(await create({ email: invited, password: "a long enough passphrase 7", sendInvite: true }))).toEqual(NO_TRANSPORT);
    expect((await create({ email: invited, password: "a long enough passphrase 7" })).errors).toBeUndefined();
    const login = await server.client.ok(LoginDocument, { input: { identifier: invited, password: "a long enough passphrase 7" } });
    expect(login.login.__typename).toBe("AuthPayload");
  });
});

describe("NODE_ENV=production, REQUIRE_VERIFIED_EMAIL and no mail transport", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", REQUIRE_VERIFIED_EMAIL: "true" } });
  });
  afterAll(() => server.close());

  it("refuses registration before creating an account that could never be verified", async () => {
    const email = uniqueEmail("unverifiable");
    const response = await server.client.request(RegisterDocument, { input: { email, password: PASSWORD } });
    expect(unavailable(response)).toEqual(NO_TRANSPORT);
    expect(errorCode(await server.client.request(LoginDocument, { input: { identifier: email, password: PASSWORD } }))).toBe("UNAUTHENTICATED");
  });
});
