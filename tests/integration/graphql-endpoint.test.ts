import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, registerUser } from "../support/fixtures";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * `POST /graphql` with a JSON body is served by a direct endpoint; every other request to
 * /graphql goes through Express's middlewares. Both must give the same answer: the same
 * status, body and headers (security headers, CORS, request id, cookies), so a client cannot
 * tell which path served it and no protection is lost on the fast one. A content encoding
 * (`identity` changes nothing in the body) makes the direct endpoint decline the request.
 */
const APP_ORIGIN = "http://app.example.test";
const VIA_EXPRESS = { "content-encoding": "identity" };
/** Headers that differ per response by nature; Express alone adds an ETag. */
const PER_RESPONSE = new Set(["date", "etag", "keep-alive", "connection"]);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { CORS_ORIGINS: APP_ORIGIN, MAX_REQUEST_BYTES: "4096" } });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function answer(headers: Record<string, string>, body: string): Promise<Answer> {
  const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const kept: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_RESPONSE.has(name)) kept[name] = value;
  });
  // A fresh token per response: compare the cookie's attributes, not its value.
  if (kept["set-cookie"]) kept["set-cookie"] = kept["set-cookie"].replace(/^ais_refresh=[^;]+/, "ais_refresh=<token>");
  return { status: response.status, headers: kept, body: await response.text() };
}

/** The request answered by both paths. */
async function bothPaths(headers: Record<string, string>, body: string): Promise<{ direct: Answer; express: Answer }> {
  const direct = await answer(headers, body);
  const express = await answer({ ...headers, ...VIA_EXPRESS }, body);
  return { direct, express };
}

const query = (text: string, variables?: unknown) => JSON.stringify({ query: text, variables });

describe("the direct GraphQL endpoint answers as the Express pipeline does", () => {
  const cases: [string, Record<string, string>, string, number][] = [
    ["a query", {}, query("{ __typename }"), 200],
    ["a query with a charset", { "content-type": "application/json; charset=utf-8" }, query("{ __typename }"), 200],
    ["a query from an allowed page", { origin: APP_ORIGIN }, query("{ __typename }"), 200],
    ["a query from a refused page", { origin: "http://evil.example.test" }, query("{ __typename }"), 200],
    ["a caller's request id", { "x-request-id": "client-chosen-id-42" }, query("{ __typename }"), 200],
    ["a bad bearer token", { authorization: "Bearer not-a-token" }, query("{ me { id } }"), 200],
    ["a syntax error", {}, query("{ me { "), 400],
    ["malformed JSON", {}, '{"query": "{ __typename }"', 400],
    ["a JSON string instead of an object", {}, '"{ __typename }"', 400],
    ["whitespace only", {}, "   ", 400],
    ["an empty body", {}, "", 400],
    ["a body over the limit", {}, query("{ __typename }", { pad: "x".repeat(5000) }), 413],
    ["a batch (off)", {}, `[${query("{ __typename }")}]`, 400],
  ];
  for (const [name, headers, body, status] of cases) {
    it(name, async () => {
      const { direct, express } = await bothPaths(headers, body);
      expect(direct.status).toBe(status);
      const { "x-request-id": directId, ...directRest } = direct.headers;
      const { "x-request-id": expressId, ...expressRest } = express.headers;
      expect(directRest).toEqual(expressRest);
      expect(direct.body).toEqual(express.body);
      if (headers["x-request-id"]) expect([directId, expressId]).toEqual([headers["x-request-id"], headers["x-request-id"]]);
      else expect(directId).toMatch(/^[0-9a-f-]{36}$/);
    });
  }

  it("is what serves JSON posts (no ETag: nothing caches a POST), and declines encoded bodies", async () => {
    const etag = async (headers: Record<string, string>) =>
      (await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: query("{ __typename }") })).headers.get("etag");
    expect(await etag({})).toBeNull();
    expect(await etag(VIA_EXPRESS)).not.toBeNull();
  });

  it("sets the refresh cookie alike", async () => {
    const user = await registerUser(server.client);
    const login = query(
      "mutation ($input: LoginInput!) { login(input: $input) { ... on AuthPayload { user { id } } } }",
      { input: { identifier: user.user.email, password: PASSWORD, tokenDelivery: "COOKIE" } },
    );
    const { direct, express } = await bothPaths({ origin: APP_ORIGIN }, login);
    expect(direct.headers["set-cookie"]).toMatch(/^ais_refresh=<token>; Path=\/graphql; Expires=.+; HttpOnly; Secure; SameSite=Strict$/);
    // The expiry is the session's, a second apart at most between the two logins.
    const withoutExpiry = (answer: Answer) => ({ ...answer.headers, "set-cookie": answer.headers["set-cookie"]?.replace(/Expires=[^;]+/, "") });
    expect(withoutExpiry(direct)).toEqual({ ...withoutExpiry(express), "x-request-id": direct.headers["x-request-id"] });
    expect(direct.body).toEqual(express.body);
  });

  it("serves concurrent requests with bodies split across packets", async () => {
    const text = query("{ __typename }");
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (const part of [text.slice(0, 5), text.slice(5, 17), text.slice(17)]) {
              controller.enqueue(new TextEncoder().encode(part));
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
            controller.close();
          },
        });
        const response = await fetch(`${server.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: stream,
          duplex: "half",
        } as RequestInit);
        return response.json();
      }),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, () => ({ data: { __typename: "Query" } })));
  });

  it("shrugs off clients that go away mid-body or send more than they declared", async () => {
    const { port } = new URL(server.url);
    const send = (text: string, end: "destroy" | "wait") =>
      new Promise<string>((resolve) => {
        const socket = net.connect(Number(port), "127.0.0.1", () => {
          socket.write(text);
          if (end === "destroy") socket.destroy();
        });
        let received = "";
        socket.on("data", (chunk) => (received += chunk.toString()));
        socket.on("close", () => resolve(received));
        socket.on("error", () => resolve(received));
        if (end === "wait") setTimeout(() => socket.destroy(), 300);
      });
    const head = (length: number) => `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    await Promise.all(Array.from({ length: 10 }, () => send(`${head(100)}{"query":`, "destroy")));
    // Declared 10 bytes, sent a whole query: the body is the first 10 bytes (malformed JSON).
    expect(await send(`${head(10)}${query("{ __typename }")}`, "wait")).toMatch(/^HTTP\/1\.1 400/);
    const after = await answer({}, query("{ __typename }"));
    expect([after.status, JSON.parse(after.body)]).toEqual([200, { data: { __typename: "Query" } }]);
  });
});
