import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentWithKey, type AgentWithKey } from "../support/agent-fixtures";
import { loginUser, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode, type GraphQLResponse } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #9: every bad input gets a typed error. Each case here once reached PostgreSQL (or
 * a graphql-js corner) and came back INTERNAL_SERVER_ERROR or as a 5xx.
 */
let server: TestServer;
let admin: string;
let user: string;
let agent: AgentWithKey;

beforeAll(async () => {
  server = await startTestServer();
  admin = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  const owner = await registerUser(server.client);
  user = owner.accessToken;
  agent = await createAgentWithKey(server.client, owner);
});
afterAll(() => server.close());

const b64 = (text: string) => Buffer.from(text).toString("base64url");
const SOME_ID = "6f1c2b8e-3a4d-4e5f-8a9b-0c1d2e3f4a5b";

function expectRefused(response: GraphQLResponse<unknown>, field?: string) {
  expect(response.status, JSON.stringify(response.errors)).toBeLessThan(500);
  expect(errorCode(response), JSON.stringify(response.errors)).toBe("BAD_USER_INPUT");
  if (field !== undefined) expect(response.errors?.[0]?.extensions?.field).toBe(field);
  expect(JSON.stringify(response.errors)).not.toMatch(/Failed query|violates|invalid input syntax|out of range/i);
}

/** Fields inside the `input` argument are named as the form knows them (`name`, not `input.name`). */
describe("strings PostgreSQL cannot store are refused for every argument, naming its path", () => {
  const cases: [string, string, Record<string, unknown>, () => string, string][] = [
    ["createAgent(name)", "mutation ($v: String!) { createAgent(input: { name: $v }) { id } }", {}, () => user, "name"],
    ["updateMe(displayName)", "mutation ($v: String) { updateMe(input: { displayName: $v }) { id } }", {}, () => user, "displayName"],
    ["createRole(description)", 'mutation ($v: String!) { createRole(input: { name: "NUL_ROLE", description: $v }) { name } }', {}, () => admin, "description"],
    ["createPolicy(name)", "mutation ($v: String!) { createPolicy(input: { name: $v, scope: GLOBAL }) { id } }", {}, () => admin, "name"],
    ["createUser(displayName)", "mutation ($v: String, $e: String!) { createUser(input: { email: $e, displayName: $v }) { id } }", { e: uniqueEmail() }, () => admin, "displayName"],
    ["revokeAgentApiKey(id)", "mutation ($v: ID!) { revokeAgentApiKey(id: $v) }", {}, () => user, "id"],
    ["policies(scopeId)", "query ($v: String) { policies(scope: USER, scopeId: $v) { id } }", {}, () => user, "scopeId"],
  ];
  for (const [label, query, extra, token, field] of cases) {
    it(`refuses a NUL in ${label}`, async () => {
      expectRefused(await server.client.request(query, { ...extra, v: `a\u0000b` }, { token: token() }), field);
    });
    it(`refuses a lone surrogate in ${label}`, async () => {
      expectRefused(await server.client.request(query, { ...extra, v: `a\uD800b` }, { token: token() }), field);
    });
  }

  it("refuses a NUL written as a literal in the document too", async () => {
    const response = await server.client.request(`mutation { createAgent(input: { name: "a\\u0000b" }) { id } }`, {}, { token: user });
    expectRefused(response, "name");
  });

  it("still checks who is asking first", async () => {
    const response = await server.client.request("mutation ($v: String!) { createAgent(input: { name: $v }) { id } }", { v: "\u0000" });
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
  });
});

describe("JSON inputs are bounded", () => {
  it("refuses metadata nested thousands of levels deep, naming it", async () => {
    const depth = 7_000;
    const metadata = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const body = `{"query":"mutation ($m: JSONObject) { submitAgentAction(input: { action: \\"llm.chat\\", estimatedCost: \\"1\\", metadata: $m }) { id } }","variables":{"m":${metadata}}}`;
    expectRefused(await server.client.raw(body, agent.auth), "metadata");
    expectRefused(await server.client.raw(body.replace("mutation", "query").replace("submitAgentAction(", `simulateAgentActionFor(agentId: \\"${agent.id}\\", `).replace("{ id }", "{ __typename }"), { token: user }), "metadata");
  });
});

describe("malformed ids are refused before any query", () => {
  const malformed = ["x", "12", `${SOME_ID}0`, "", "6f1c2b8e-3a4d-4e5f-8a9b-0c1d2e3f4a5g"];
  for (const id of malformed) {
    it(`refuses agents(ownerId: ${JSON.stringify(id)}) and unlockUser(userId: ${JSON.stringify(id)})`, async () => {
      expectRefused(await server.client.request("query ($v: ID) { agents(ownerId: $v) { id } }", { v: id }, { token: admin }), "ownerId");
      expectRefused(await server.client.request("mutation ($v: ID!) { unlockUser(userId: $v) }", { v: id }, { token: admin }), "userId");
    });
  }

  it("refuses a malformed id inside an input object", async () => {
    const response = await server.client.request(
      "query ($v: ID) { agentActions(filter: { agentId: $v }) { totalCount } }",
      { v: "12" },
      { token: admin },
    );
    expectRefused(response, "filter.agentId");
  });
});

describe("cursors and dates are bounded to what PostgreSQL stores", () => {
  const ACTIONS = "query ($after: String) { agentActions(after: $after) { totalCount } }";
  for (const at of ["+275760-09-13T00:00:00.000Z", "-271821-04-20T00:00:00.000Z", "0000-01-01T00:00:00.000Z"]) {
    it(`refuses an agentActions cursor at ${at}`, async () => {
      expectRefused(await server.client.request(ACTIONS, { after: b64(`${at}|${SOME_ID}`) }, { token: admin }), "after");
      expectRefused(await server.client.request("query ($after: String) { myAgentActions(after: $after) { totalCount } }", { after: b64(`${at}|${SOME_ID}`) }, agent.auth), "after");
    });
  }

  it("refuses an audit cursor beyond int8", async () => {
    const response = await server.client.request("query ($after: String) { audit(after: $after) { edges { cursor } } }", { after: b64("9999999999999999999") }, { token: admin });
    expectRefused(response, "after");
  });

  it("refuses dates outside years 1 to 9999 in any filter", async () => {
    // The scalar itself refuses extended years ("+010000-…"); year 0 it parses, and the rule refuses.
    for (const from of ["0000-01-01T00:00:00Z", "0000-12-31T23:59:59.999Z"]) {
      expectRefused(await server.client.request("query ($from: DateTimeISO) { audit(filter: { from: $from }) { edges { cursor } } }", { from }, { token: admin }), "filter.from");
      expectRefused(await server.client.request("query ($from: DateTimeISO) { agentActions(filter: { from: $from }) { totalCount } }", { from }, { token: admin }), "filter.from");
      expectRefused(await server.client.request("query ($from: DateTimeISO) { users(filter: { createdAfter: $from }) { totalCount } }", { from }, { token: admin }), "filter.createdAfter");
    }
  });

  it("refuses a crafted users cursor", async () => {
    const USERS = "query ($after: String) { users(after: $after) { totalCount } }";
    for (const crafted of [["CREATED_AT", "not a date", SOME_ID], ["CREATED_AT", "2026-01-01T00:00:00Z", "x"], ["CREATED_AT", "0000-01-01T00:00:00Z", SOME_ID]]) {
      expectRefused(await server.client.request(USERS, { after: b64(JSON.stringify(crafted)) }, { token: admin }), "after");
    }
  });
});

describe("the HTTP audit export takes the same filter rules as the GraphQL argument rule", () => {
  const exportAs = (params: Record<string, string>) =>
    fetch(`${server.url}/audit/export?${new URLSearchParams(params).toString()}`, { headers: { authorization: `Bearer ${admin}` } });
  const cases: [Record<string, string>, string][] = [
    [{ actorId: "a\u0000b" }, "actorId"],
    [{ targetId: "\u0000" }, "targetId"],
    [{ action: "auth.\u0000*" }, "action"],
    [{ from: "0000-01-01T00:00:00Z" }, "from"],
    [{ to: "0000-12-31T23:59:59+00:00" }, "to"],
  ];
  for (const [params, field] of cases) {
    it(`refuses ${JSON.stringify(params)} as BAD_USER_INPUT on ${field}`, async () => {
      const response = await exportAs(params);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: { extensions: { code: string; field: string } }[] };
      expect(body.errors[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field });
    });
  }
});

describe("client mistakes in the request itself get request error codes", () => {
  async function post(body: unknown) {
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] } };
  }

  it("answers syntax errors with 400 GRAPHQL_PARSE_FAILED", async () => {
    for (const query of ["{ me { id }", "query {", "\u0001", "{ me(x: \"\u0000) }"]) {
      const { status, body } = await post({ query });
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    }
  });

  it("answers a document over the token limit with 400 GRAPHQL_PARSE_FAILED", async () => {
    const { status, body } = await post({ query: `{ ${"__typename ".repeat(3_000)} }` });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(body.errors?.[0]?.message).toMatch(/more tha[nt] 2000 tokens/);
  });

  it("answers a body that is not UTF-8 as a client error", async () => {
    const bytes = Buffer.concat([Buffer.from('{"query":"{ me { id } \u0000'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: bytes });
    expect(response.status).toBe(400);
    const code = ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;
    expect(["GRAPHQL_PARSE_FAILED", "BAD_REQUEST"]).toContain(code);
  });

  it("answers persisted-query mistakes with PERSISTED_QUERY codes", async () => {
    const mismatch = await post({ query: "{ me { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    const version = await post({ query: "{ me { id } }", extensions: { persistedQuery: { version: 2, sha256Hash: "0".repeat(64) } } });
    expect(version.status).toBe(400);
    expect(version.body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: "1".repeat(64) } } });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("answers too many variable errors with BAD_USER_INPUT", async () => {
    const query = "query ($v: [AgentActionStatus!]) { agentActions(filter: { status: $v }) { totalCount } }";
    const { status, body } = await post({ query, variables: { v: Array.from({ length: 60 }, () => "NOT_A_STATUS") } });
    expect(status).toBe(400);
    expect(body.errors?.length).toBeGreaterThan(0);
    for (const error of body.errors ?? []) expect(error.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
