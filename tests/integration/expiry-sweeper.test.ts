import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions } from "../../src/db/schema";
import { SubmitAgentActionDocument } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units } from "../support/agent-fixtures";
import { loginUser, registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * The sweeper each process runs: with ACTION_SWEEP_INTERVAL set, a reservation past its
 * expiry is released without anyone calling anything (the clock is manual; the interval
 * is real, so the test waits for the outcome, never for a fixed time).
 */
const clock = new ManualClock(new Date("2026-05-04T08:00:00.000Z"));
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock, env: { ACTION_SWEEP_INTERVAL: "1s", ACTION_RESERVATION_TTL: "10m" } });
});
afterAll(() => server.close());

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("expiry sweeper", () => {
  it("releases an unsettled reservation once it expires, on its own", async () => {
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const agent = await createAgentWithKey(server.client, await registerUser(server.client));
    await createPolicy(server.client, admin, { name: "allow", scope: "AGENT", scopeId: agent.id, rules: [{ pattern: "llm.*", effect: "ALLOW" }] });
    const { submitAgentAction: action } = await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(2) } }, agent.auth);
    const read = async () => (await server.app.database.db.select().from(agentActions).where(eq(agentActions.id, action.id)))[0]!;
    expect((await read()).status).toBe("RESERVED");
    clock.advance(11 * 60_000);
    const row = await until(read, (value) => value.status !== "RESERVED");
    expect(row).toMatchObject({ status: "EXPIRED", reserved: 0n });
  });
});
