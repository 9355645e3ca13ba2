import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logging/logger";
import { LoginDocument, SubmitAgentActionDocument } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units } from "../support/agent-fixtures";
import { loginUser, PASSWORD, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * What an operator reads: GraphQL requests counted by operation (the root field, whatever
 * the client names its operation) and result (ok or the error code), decisions by outcome,
 * and one access log line per request with the operation, status, duration and request id,
 * and nothing the client sent beyond that.
 */
const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  level: "info",
  destination: new Writable({
    write(chunk: Buffer, _encoding, next) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      next();
    },
  }),
});
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ logger, env: { LOCKOUT_THRESHOLD: "2" } });
});
afterAll(() => server.close());

const metricsText = async () => (await fetch(`${server.url}/metrics`)).text();
const countOf = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, "m").exec(text)?.[1] ?? "0");

describe("operational metrics", () => {
  it("count GraphQL requests by root field and result, with a bounded label whatever the operation is called", async () => {
    const user = await registerUser(server.client);
    const before = await metricsText();
    await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: PASSWORD } });
    await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: "not the password at all" } });
    // A made-up operation name does not become a label: the root field does.
    await server.client.request(`query AnyNameAtAll${Date.now()} { __typename }`, {});
    await server.client.request(`query { nope }`, {});
    const after = await metricsText();
    const delta = (series: string) => countOf(after, series) - countOf(before, series);
    expect(delta('graphql_operations_total{operation="login",result="ok"}')).toBe(1);
    expect(delta('graphql_operations_total{operation="login",result="UNAUTHENTICATED"}')).toBe(1);
    expect(delta('graphql_operations_total{operation="__typename",result="ok"}')).toBe(1);
    expect(delta('graphql_operations_total{operation="invalid",result="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);
    expect(after).not.toMatch(/AnyNameAtAll/);
    // GraphQL requests are timed under their route, not lumped with unknown paths.
    expect(delta('http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}')).toBeGreaterThanOrEqual(3);
  });

  it("count decisions by outcome, and the transactions that wrote them", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const agent = await createAgentWithKey(server.client, await registerUser(server.client));
    await createPolicy(server.client, admin, { name: "llm", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.*", effect: "ALLOW" }] });
    const before = await metricsText();
    await server.client.request(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(1) } }, agent.auth);
    await server.client.request(SubmitAgentActionDocument, { input: { action: "payments.send", estimatedCost: units(1) } }, agent.auth);
    const after = await metricsText();
    const delta = (series: string) => countOf(after, series) - countOf(before, series);
    expect(delta('agent_action_decisions_total{outcome="ALLOWED"}')).toBe(1);
    expect(delta('agent_action_decisions_total{outcome="DENIED"}')).toBe(1);
    expect(delta('graphql_operations_total{operation="submitAgentAction",result="POLICY_DENIED"}')).toBe(1);
    // One after the other, each decision is its own batch (group commit forms under load).
    expect(delta("agent_action_decision_batches_total")).toBe(2);
  });

  it("count lockouts and show every operational event from the start", async () => {
    const before = await metricsText();
    for (const event of ["account_locked", "reservation_expired", "email_delivery_failed", "webhook_delivery_failed"]) {
      expect(before).toContain(`operational_events_total{event="${event}"}`);
    }
    const user = await registerUser(server.client);
    for (let i = 0; i < 2; i += 1) await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: "wrong password here" } });
    const after = await metricsText();
    expect(countOf(after, 'operational_events_total{event="account_locked"}') - countOf(before, 'operational_events_total{event="account_locked"}')).toBe(1);
  });

  it("write one access log line per request: method, path, status, duration, request id, operation and result", async () => {
    const user = await registerUser(server.client);
    const requestId = `access-log-${Date.now()}`;
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ query: "mutation ($input: LoginInput!) { login(input: $input) { __typename } }", variables: { input: { identifier: user.user.email, password: PASSWORD } } }),
    });
    expect(response.status).toBe(200);
    const logged = lines.filter((line) => line.requestId === requestId && line.msg === "request");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: "info", method: "POST", path: "/graphql", status: 200, operation: "login", result: "ok" });
    expect(typeof logged[0]!.ms).toBe("number");
    expect(JSON.stringify(logged[0])).not.toContain(user.user.email);
    expect(JSON.stringify(logged[0])).not.toContain(PASSWORD);
  });
});
