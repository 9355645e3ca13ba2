import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import {
  AgentActionByIdDocument,
  MySpendDocument,
  SettleAgentActionDocument,
  SubmitAgentActionDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Bounded settles over HTTP (the policy model in README): a settle above the estimate is
 * bounded by the chain (the rules' ceiling, the caps' room), and a late settle is decided
 * against the caps again. This server has its own database: it writes a GLOBAL policy.
 */
const clock = new ManualClock(new Date("2026-03-02T09:00:00.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;

beforeAll(async () => {
  server = await startTestServer({ clock, env: { ACTION_RESERVATION_TTL: "15m" } });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  await createPolicy(server.client, admin, {
    name: "chat for everyone",
    scope: "GLOBAL",
    rules: [{ pattern: "llm.chat", effect: "ALLOW", maxCostPerAction: units(2) }],
    caps: [{ per: "GLOBAL", window: "DAY", limit: units(100) }],
  });
});
beforeEach(async () => {
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;
const settle = (agent: AgentWithKey, id: string, actualCost: string) => server.client.request(SettleAgentActionDocument, { id, actualCost }, agent.auth);
const daySpend = async (agent: AgentWithKey) =>
  (await server.client.ok(MySpendDocument, {}, agent.auth)).mySpend.windows.find((window) => window.window === "DAY")!;
const refusals = (id: string) =>
  server.app.database.db.select().from(auditEvents).where(and(eq(auditEvents.targetId, id), eq(auditEvents.action, "agent.action.settle_refused")));

/** A self-registered tenant's agent with the tenant's own OWNER/DAY cap (a restriction layer). */
async function tenantAgent(ownerCap: number): Promise<AgentWithKey> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  await createPolicy(server.client, owner, { name: "my budget", scope: "AGENT", scopeId: agent.id, caps: [{ per: "OWNER", window: "DAY", limit: units(ownerCap) }] });
  return agent;
}

describe("settles above the estimate", () => {
  it("defect 5: a tenant cannot blow the GLOBAL cap by settling a 0-cost action at 10^15; the refusal names the bound and is audited", async () => {
    const tenant = await tenantAgent(20);
    const other = await tenantAgent(20);
    const action = await submitOk(tenant, { action: "llm.chat", estimatedCost: "0" });
    expect(action).toMatchObject({ status: "RESERVED", reserved: "0" });

    const response = await settle(tenant, action.id, "1000000000000000");
    expectRefused(response, "POLICY_DENIED");
    expect(response.errors![0]!.extensions).toMatchObject({ decisionId: action.id, bound: "CEILING", allowed: units(2), requested: "1000000000000000" });
    expect((response.errors![0]!.extensions as { reasons: { code: string }[] }).reasons[0]!.code).toBe("SETTLE_OVER_BOUND");
    expect(await refusals(action.id)).toHaveLength(1);
    // Nothing was charged; the reservation stays, and everyone else can still act.
    expect((await server.client.ok(AgentActionByIdDocument, { id: action.id }, as(admin))).agentAction).toMatchObject({ status: "RESERVED", actualCost: null });
    expect(await daySpend(tenant)).toMatchObject({ spent: "0" });
    expect(await submitOk(other, { action: "llm.chat", estimatedCost: units(1) })).toMatchObject({ status: "RESERVED" });

    // Within the bound (the rule's max cost per action) the overrun is charged and flagged.
    const settled = (await server.client.ok(SettleAgentActionDocument, { id: action.id, actualCost: units(2) }, tenant.auth)).settleAgentAction;
    expect(settled).toMatchObject({ status: "SETTLED", actualCost: units(2), overrun: true, settledLate: false });
  });

  it("an overrun is refused where it would take the tenant's own cap past its limit (room of the cap at settle time)", async () => {
    const tenant = await tenantAgent(3);
    const first = await submitOk(tenant, { action: "llm.chat", estimatedCost: units(1) });
    await submitOk(tenant, { action: "llm.chat", estimatedCost: units(1) });
    await submitOk(tenant, { action: "llm.chat", estimatedCost: units(1) });
    // 3 of 3 spent, 2 of it by the other actions: this one may end at 1, its reservation.
    const response = await settle(tenant, first.id, units(2));
    expectRefused(response, "POLICY_DENIED");
    expect(response.errors![0]!.extensions).toMatchObject({ bound: "CAP", allowed: units(1), requested: units(2) });
    expect((response.errors![0]!.extensions as { reasons: Record<string, unknown>[] }).reasons[0]).toMatchObject({ per: "OWNER", window: "DAY", limit: units(3), spent: units(2) });
    expect(await daySpend(tenant)).toMatchObject({ spent: units(3) });
  });
});

describe("late settles", () => {
  it("defect 9: after expiry released the reservation, a late settle is decided against the caps again and flagged", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    await createPolicy(server.client, admin, {
      name: "small budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "llm.*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(5) }],
    });
    const expired = await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    clock.advance(16 * 60_000);
    await server.app.services.actions.expireDue();
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    expect(await daySpend(agent)).toMatchObject({ spent: units(5) });

    const response = await settle(agent, expired.id, units(5));
    expectRefused(response, "POLICY_DENIED");
    expect(response.errors![0]!.extensions).toMatchObject({ bound: "CAP", allowed: "0", requested: units(5) });
    expect(await refusals(expired.id)).toHaveLength(1);
    expect(await daySpend(agent)).toMatchObject({ spent: units(5) });

    const late = (await server.client.ok(SettleAgentActionDocument, { id: expired.id, actualCost: "0" }, agent.auth)).settleAgentAction;
    expect(late).toMatchObject({ status: "SETTLED", actualCost: "0", settledLate: true, overrun: false });
    expect(await daySpend(agent)).toMatchObject({ spent: units(5) });
  });
});
