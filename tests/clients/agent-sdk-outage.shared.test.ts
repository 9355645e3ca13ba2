import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentClient } from "../../clients/agent/src";
import { units } from "../support/agent-fixtures";
import { loginUser } from "../support/fixtures";
import { openDatabaseSwitch, until, type DatabaseSwitch } from "../support/outage";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { agentDay, governedAgent, ownersView, type GovernedAgent } from "./sdk-fixtures";

/**
 * The SDK while the server's PostgreSQL refuses connections: the server fails closed with
 * SERVICE_UNAVAILABLE, the SDK backs off and tries again, and once the database is back the
 * action is decided, the work runs and the cost is settled, once. PostgreSQL only: the
 * embedded database cannot be cut off from a running server.
 */
let server: TestServer;
let database: DatabaseSwitch;
let subject: GovernedAgent;

beforeAll(async () => {
  server = await startTestServer({ env: { DATABASE_STATEMENT_TIMEOUT: "1s", DATABASE_CONNECT_TIMEOUT: "2s" } });
  const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  subject = await governedAgent(server.client, admin);
  database = await openDatabaseSwitch(server);
});

afterAll(async () => {
  await database?.close();
  await server?.close();
});

describe("the SDK during a database outage", () => {
  it("retries SERVICE_UNAVAILABLE with backoff and goes through once the database is back", async () => {
    const codes: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = (await response.clone().json()) as { errors?: { extensions?: { code?: string } }[] };
      codes.push(body.errors?.[0]?.extensions?.code ?? "OK");
      return response;
    };
    const sdk = createAgentClient({ url: server.url, apiKey: subject.agent.key, fetch: recording, retry: { attempts: 60, baseMs: 100, maxMs: 500 } });

    await database.refuse();
    let ran = 0;
    const outcome = sdk.governed({ action: "llm.chat", estimatedCost: units(8) }, async () => {
      ran++;
      return { actualCost: units(5), result: "done" };
    });
    await until(async () => codes.filter((code) => code === "SERVICE_UNAVAILABLE").length >= 2, "two refusals during the outage", 30_000);
    expect(ran).toBe(0);
    await database.accept();

    expect(await outcome).toMatchObject({ status: "SETTLED", result: "done", settled: { actualCost: units(5) } });
    expect(ran).toBe(1);
    expect(codes.slice(-2)).toEqual(["OK", "OK"]);
    const seen = await ownersView(server.client, subject);
    expect(seen.totalCount).toBe(1);
    expect(await agentDay(server.client, subject)).toMatchObject({ reserved: "0", settled: units(5) });
  }, 60_000);
});
