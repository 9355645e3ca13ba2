import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, sessions, users } from "../../src/db/schema";
import { LoginDocument, RegisterDocument, SessionsDocument } from "../generated/graphql";
import { PASSWORD, registerUser, uniqueEmail, uniqueUsername } from "../support/fixtures";
import { errorCode, type GraphQLResponse } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function counts() {
  const { db } = server.app.database;
  const [row] = await db
    .select({
      users: sql<number>`(select count(*)::int from ${users})`,
      sessions: sql<number>`(select count(*)::int from ${sessions})`,
      audit: sql<number>`(select count(*)::int from ${auditEvents})`,
    })
    .from(sql`(select 1) as one`);
  return row;
}

/** Nothing in an error may reveal internals: stack frames, SQL, or the offending secret. */
function expectCleanErrors(response: GraphQLResponse<unknown>, secret?: string) {
  const text = JSON.stringify(response.errors ?? []);
  expect(text).not.toMatch(/stacktrace|\bat .+\.(js|ts):\d+|node_modules/);
  expect(text).not.toMatch(/insert into|select .* from|violates|duplicate key|relation "|syntax error at/i);
  if (secret) expect(text).not.toContain(secret);
}

describe("register refuses bad input with a typed error and writes nothing", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["an empty email", { email: "", password: PASSWORD }, "email"],
    ["a malformed email", { email: "not-an-email", password: PASSWORD }, "email"],
    ["an email with spaces", { email: "a b@example.com", password: PASSWORD }, "email"],
    ["an email without a local part", { email: "@example.com", password: PASSWORD }, "email"],
    ["a 300-character email", { email: `${"a".repeat(290)}@example.com`, password: PASSWORD }, "email"],
    ["a short password", { email: uniqueEmail(), password: "short" }, "password"],
    ["a password over 72 bytes", { email: uniqueEmail(), password: "é".repeat(37) }, "password"],
    ["a bad username", { email: uniqueEmail(), password: PASSWORD, username: "x" }, "username"],
    ["a username with spaces", { email: uniqueEmail(), password: PASSWORD, username: "two words" }, "username"],
  ];
  for (const [label, input, field] of cases) {
    it(`refuses ${label}`, async () => {
      const before = await counts();
      const response = await server.client.request(RegisterDocument, { input: input as never });
      expect(errorCode(response)).toBe("BAD_USER_INPUT");
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
      expectCleanErrors(response, String(input.password));
      expect(await counts()).toEqual(before);
    });
  }

  it("says why a long password is refused instead of truncating it", async () => {
    const response = await server.client.request(RegisterDocument, {
      input: { email: uniqueEmail(), password: "a".repeat(73) },
    });
    expect(response.errors?.[0]?.message).toMatch(/72 bytes/);
  });

  it("refuses values of the wrong type without echoing them", async () => {
    const before = await counts();
    const secretNumber = 987_654_321;
    const response = await server.client.raw(
      JSON.stringify({
        query: "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
        variables: { input: { email: uniqueEmail(), password: secretNumber } },
      }),
    );
    expect(errorCode(response)).toBe("BAD_USER_INPUT");
    expectCleanErrors(response, String(secretNumber));
    const missing = await server.client.raw(
      JSON.stringify({
        query: "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
        variables: { input: { email: uniqueEmail() } },
      }),
    );
    expect(errorCode(missing)).toBe("BAD_USER_INPUT");
    const literal = await server.client.raw(
      JSON.stringify({ query: `mutation { register(input: { email: "x@example.com", password: 55501234 }) { accessToken } }` }),
    );
    expect(errorCode(literal)).toBe("GRAPHQL_VALIDATION_FAILED");
    expectCleanErrors(literal, "55501234");
    expect(await counts()).toEqual(before);
  });

  it("refuses a taken email (in any case) and a taken username as CONFLICT on that field", async () => {
    const email = uniqueEmail("taken");
    const username = uniqueUsername("taken");
    await registerUser(server.client, { email, username });
    const before = await counts();
    const sameEmail = await server.client.request(RegisterDocument, { input: { email: email.toUpperCase(), password: PASSWORD } });
    expect(errorCode(sameEmail)).toBe("CONFLICT");
    expect(sameEmail.errors?.[0]?.extensions?.field).toBe("email");
    const sameUsername = await server.client.request(RegisterDocument, {
      input: { email: uniqueEmail(), password: PASSWORD, username: username.toUpperCase() },
    });
    expect(errorCode(sameUsername)).toBe("CONFLICT");
    expect(sameUsername.errors?.[0]?.extensions?.field).toBe("username");
    expectCleanErrors(sameEmail);
    expect(await counts()).toEqual(before);
  });
});

describe("the HTTP edge refuses malformed requests cleanly", () => {
  async function post(body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers, body });
    return { status: response.status, text: await response.text() };
  }

  it("answers malformed JSON with 400 and no stack trace", async () => {
    const { status, text } = await post("{not json");
    expect(status).toBe(400);
    expect(JSON.parse(text).errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(text).not.toMatch(/at .*\.js|SyntaxError/);
  });

  it("answers an oversized body with 413", async () => {
    const { status, text } = await post(JSON.stringify({ query: "{ me { id } }", variables: { pad: "x".repeat(200_000) } }));
    expect(status).toBe(413);
    expect(JSON.parse(text).errors[0].message).toMatch(/too large/);
  });

  it("refuses batched operations, token floods and alias floods", async () => {
    const batch = await post(JSON.stringify([{ query: "{ me { id } }" }, { query: "{ me { id } }" }]));
    expect(batch.status).toBe(400);
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(" ");
    const flood = await server.client.raw(JSON.stringify({ query: `{ ${aliases} }` }));
    expect(errorCode(flood)).toBe("GRAPHQL_VALIDATION_FAILED");
    const tokens = await server.client.raw(JSON.stringify({ query: `{ ${"__typename ".repeat(3_000)} }` }));
    expect(tokens.status).toBe(400);
    expect(errorCode(tokens)).toBe("GRAPHQL_PARSE_FAILED");
    expect(tokens.errors?.[0]?.message).toMatch(/more tha[nt] 2000 tokens/);
  });

  it("does not suggest field names to a prober", async () => {
    const response = await server.client.raw(JSON.stringify({ query: "{ mee { id } }" }));
    expect(errorCode(response)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(response.errors)).not.toMatch(/Did you mean/);
  });

  it("treats a hostile login identifier as an ordinary failed login", async () => {
    for (const identifier of ["' OR 1=1 --", "x".repeat(10_000), "", "\u0001\u0002"]) {
      const response = await server.client.request(LoginDocument, { input: { identifier, password: PASSWORD } });
      expect(errorCode(response)).toBe("UNAUTHENTICATED");
      expectCleanErrors(response);
    }
  });

  it("refuses a NUL in a login identifier as input no account could hold, like any argument", async () => {
    const response = await server.client.request(LoginDocument, { input: { identifier: "\u0000\u0001", password: PASSWORD } });
    expect(errorCode(response)).toBe("BAD_USER_INPUT");
    expect(response.errors?.[0]?.extensions?.field).toBe("identifier");
    expectCleanErrors(response);
  });

  it("refuses a malformed user id with BAD_USER_INPUT", async () => {
    const user = await registerUser(server.client);
    const response = await server.client.request(SessionsDocument, { userId: "../../etc" }, { token: user.accessToken });
    expect(errorCode(response)).toBe("BAD_USER_INPUT");
    expect(response.errors?.[0]?.extensions?.field).toBe("userId");
  });
});
