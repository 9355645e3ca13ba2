import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { spendThresholdCrossings } from "../../src/db/schema";
import { ApproveAgentActionDocument, SubmitAgentActionDocument, type SessionCredentialsFragment } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units } from "../support/agent-fixtures";
import { as } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { mailTo } from "../support/mailbox";
import { ManualClock } from "../support/manual-clock";
import { until } from "../support/outage";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Alert thresholds on caps: crossing 50 %, 80 % or 100 % of a cap's limit tells the agent's
 * owner once per cap and window (an email; the crossing is recorded), never once per action,
 * also when many actions cross at once; a new window alerts again; an approval that
 * reserves past a threshold crosses it too.
 */
const clock = new ManualClock(new Date("2026-06-01T08:00:00.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;

beforeAll(async () => {
  server = await startTestServer({ clock });
});
// Access tokens expire as the clock moves: sign in at the time of each test.
beforeEach(async () => {
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

async function crossingsOf(agentId: string) {
  return server.app.database.db.select().from(spendThresholdCrossings).where(eq(spendThresholdCrossings.agentId, agentId));
}

describe("cap thresholds", () => {
  it("alert once per threshold and window under a burst of concurrent actions, and again in the next window", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    await createPolicy(server.client, admin, {
      name: "day budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(10), thresholds: [50, 80, 100] }],
    });
    const burst = () =>
      Promise.all(Array.from({ length: 16 }, () => server.client.request(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(1) } }, agent.auth)));
    const first = await burst();
    expect(first.filter((response) => response.data?.submitAgentAction?.decision === "ALLOWED")).toHaveLength(10);

    const rows = await crossingsOf(agent.id);
    expect(rows.map((row) => [row.threshold, row.spent]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [50, 5_000_000n],
      [80, 8_000_000n],
      [100, 10_000_000n],
    ]);
    await until(async () => (await mailTo(server, owner.user.email, "spend-threshold")).length >= 3, "three alerts are mailed");
    const mails = await mailTo(server, owner.user.email, "spend-threshold");
    expect(mails.map((mail) => mail.Subject).sort()).toEqual([
      "Agent Identity: 100% of a DAY cap reached",
      "Agent Identity: 50% of a DAY cap reached",
      "Agent Identity: 80% of a DAY cap reached",
    ]);
    expect(mails[0]!.TextBody).toContain(agent.id);

    clock.advance(24 * 3_600_000);
    const second = await burst();
    expect(second.filter((response) => response.data?.submitAgentAction?.decision === "ALLOWED")).toHaveLength(10);
    expect(await crossingsOf(agent.id)).toHaveLength(6);
    await until(async () => (await mailTo(server, owner.user.email, "spend-threshold")).length >= 6, "three more alerts are mailed");
  });

  it("counts a threshold crossed by an approval, not by the held action", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    await createPolicy(server.client, admin, {
      name: "soft budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(10), soft: true, thresholds: [100] }],
    });
    const submit = async (cost: number) =>
      (await server.client.ok(SubmitAgentActionDocument, { input: { action: "llm.chat", estimatedCost: units(cost) } }, agent.auth)).submitAgentAction;
    await submit(6);
    const held = await submit(6);
    expect(held.decision).toBe("PENDING_APPROVAL");
    expect(await crossingsOf(agent.id)).toHaveLength(0);
    await server.client.ok(ApproveAgentActionDocument, { id: held.id }, as(admin));
    const rows = await crossingsOf(agent.id);
    expect(rows.map((row) => [row.threshold, row.spent, row.actionId])).toEqual([[100, 12_000_000n, held.id]]);
    await until(async () => (await mailTo(server, owner.user.email, "spend-threshold")).length === 1, "the alert is mailed");
  });
});
