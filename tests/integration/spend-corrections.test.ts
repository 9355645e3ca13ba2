import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions, auditEvents, spendAdjustments, spendCounters } from "../../src/db/schema";
import {
  AdjustSpendDocument,
  ReleaseAgentActionDocument,
  SettleAgentActionDocument,
  SpendAdjustmentsDocument,
  SpendWindowsDocument,
  SubmitAgentActionDocument,
  type AgentActionInput,
  type SessionCredentialsFragment,
  type SpendAdjustmentInput,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #10, spend a person can correct: suspending or deleting an agent releases what it
 * holds at once (its owner's room is free for a replacement), a holder of spend:write can
 * release any agent's reservation, and can post credits and debits on a counter, which the
 * next decision and the spend report read; the counters stay the sum of actions and
 * adjustments.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
let manager: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  manager = await registerUser(server.client);
  await server.client.ok(`mutation ($id: ID!) { grantRole(userId: $id, role: "MANAGER") }`, { id: manager.user.id }, as(admin));
});
afterAll(() => server.close());

const submit = (agent: AgentWithKey, input: AgentActionInput) => server.client.request(SubmitAgentActionDocument, { input }, agent.auth);
const submitOk = async (agent: AgentWithKey, input: AgentActionInput) => (await server.client.ok(SubmitAgentActionDocument, { input }, agent.auth)).submitAgentAction;
const adjust = (actor: { accessToken: string }, input: SpendAdjustmentInput) => server.client.request(AdjustSpendDocument, { input }, as(actor));
const db = () => server.app.database.db;
const auditOf = (targetId: string) => db().select().from(auditEvents).where(eq(auditEvents.targetId, targetId));

/** An owner whose agents share an OWNER/DAY cap of `dayCap` units (llm.* allowed, email.send held). */
async function ownerWithCap(dayCap: number) {
  const owner = await registerUser(server.client);
  await createPolicy(server.client, admin, {
    name: "owner budget",
    scope: "USER",
    scopeId: owner.user.id,
    rules: [
      { pattern: "llm.*", effect: "ALLOW" },
      { pattern: "email.send", effect: "REQUIRE_APPROVAL" },
    ],
    caps: [{ per: "OWNER", window: "DAY", limit: units(dayCap) }],
  });
  return owner;
}

async function windowOf(actor: { accessToken: string }, per: "AGENT" | "OWNER", subjectId: string, window = "DAY") {
  const report = (await server.client.ok(SpendWindowsDocument, { per, subjectId }, as(actor))).spendReport;
  return report.windows.find((entry) => entry.window === window)!;
}

describe("an agent that stops releases what it holds (defect 8)", () => {
  for (const how of ["deleteAgent", "suspendAgent"] as const) {
    it(`${how}: its reservations are released and its holds cancelled at once, each audited; a replacement is allowed right away`, async () => {
      const owner = await ownerWithCap(10);
      const old = await createAgentWithKey(server.client, owner, "old");
      const reserved = await submitOk(old, { action: "llm.completion", estimatedCost: units(8) });
      const held = await submitOk(old, { action: "email.send", estimatedCost: units(1) });
      expect([reserved.status, held.status]).toEqual(["RESERVED", "PENDING_APPROVAL"]);

      const replacement = await createAgentWithKey(server.client, owner, "replacement");
      expectRefused(await submit(replacement, { action: "llm.completion", estimatedCost: units(8) }), "POLICY_DENIED");

      await server.client.ok(`mutation ($id: ID!) { ${how}(id: $id) ${how === "deleteAgent" ? "" : "{ id }"} }`, { id: old.id }, as(owner));

      const rows = await db().select().from(agentActions).where(inArray(agentActions.id, [reserved.id, held.id]));
      for (const row of rows) expect(row).toMatchObject({ status: "CANCELLED", reserved: 0n });
      expect((await windowOf(owner, "OWNER", owner.user.id)).reserved).toBe("0");
      for (const id of [reserved.id, held.id]) {
        const released = (await auditOf(id)).find((event) => event.action === "agent.action.released");
        expect(released).toMatchObject({ actorType: "user", actorId: owner.user.id, outcome: "success" });
        expect(released!.details).toMatchObject({ reason: how === "deleteAgent" ? "agent.deleted" : "agent.suspended" });
      }
      expect((await auditOf(reserved.id)).find((event) => event.action === "agent.action.released")!.details).toMatchObject({ released: units(8) });

      const next = await submitOk(replacement, { action: "llm.completion", estimatedCost: units(8) });
      expect(next.status).toBe("RESERVED");
    });
  }
});

describe("releaseAgentAction (spend:write)", () => {
  it("an admin releases another agent's reservation with a reason; the room is free at once; again is a no-op", async () => {
    const owner = await ownerWithCap(10);
    const agent = await createAgentWithKey(server.client, owner);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(9) });
    expectRefused(await submit(agent, { action: "llm.completion", estimatedCost: units(5) }), "POLICY_DENIED");

    const released = (await server.client.ok(ReleaseAgentActionDocument, { id: action.id, reason: "agent stuck" }, as(admin))).releaseAgentAction;
    expect(released).toMatchObject({ id: action.id, status: "CANCELLED", reserved: "0" });
    const again = (await server.client.ok(ReleaseAgentActionDocument, { id: action.id, reason: "twice" }, as(admin))).releaseAgentAction;
    expect(again.status).toBe("CANCELLED");
    const events = (await auditOf(action.id)).filter((event) => event.action === "agent.action.released");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: "user", actorId: admin.user.id });
    expect(events[0]!.details).toMatchObject({ reason: "agent stuck", released: units(9), was: "RESERVED" });

    expect((await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) })).status).toBe("RESERVED");
  });

  it("is refused without spend:write (the owner, a manager), and needs a reason; a settled action holds nothing to release", async () => {
    const owner = await ownerWithCap(10);
    const agent = await createAgentWithKey(server.client, owner);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(2) });
    for (const who of [owner, manager]) {
      expectRefused(await server.client.request(ReleaseAgentActionDocument, { id: action.id, reason: "mine" }, as(who)), "FORBIDDEN");
    }
    expectRefused(await server.client.request(ReleaseAgentActionDocument, { id: action.id, reason: "  " }, as(admin)), "BAD_USER_INPUT", "reason");
    const [row] = await db().select().from(agentActions).where(eq(agentActions.id, action.id));
    expect(row!.status).toBe("RESERVED");
    await server.client.ok(SettleAgentActionDocument, { id: action.id, actualCost: units(2) }, agent.auth);
    expectRefused(await server.client.request(ReleaseAgentActionDocument, { id: action.id, reason: "late" }, as(admin)), "CONFLICT");
  });
});

describe("spend adjustments", () => {
  async function cappedAgent(dayCap: number) {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    await createPolicy(server.client, admin, {
      name: "agent budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [{ pattern: "llm.*", effect: "ALLOW" }],
      caps: [{ per: "AGENT", window: "DAY", limit: units(dayCap) }],
    });
    return { owner, agent };
  }

  it("a credit gives room back to the next decision, a debit takes it; both show in the spend report and are audited", async () => {
    const { agent } = await cappedAgent(10);
    const first = await submitOk(agent, { action: "llm.completion", estimatedCost: units(8) });
    await server.client.ok(SettleAgentActionDocument, { id: first.id, actualCost: units(8) }, agent.auth);
    expectRefused(await submit(agent, { action: "llm.completion", estimatedCost: units(5) }), "POLICY_DENIED");

    const credit = await server.client.ok(
      AdjustSpendDocument,
      { input: { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "CREDIT", amount: units(5), reason: "refund: provider outage" } },
      as(admin),
    );
    expect(credit.adjustSpend).toMatchObject({ per: "AGENT", subject: agent.id, window: "DAY", kind: "CREDIT", amount: `-${units(5)}`, actorId: admin.user.id });
    const day = await windowOf(admin, "AGENT", agent.id);
    expect(day).toMatchObject({ settled: units(3), spent: units(3), adjusted: `-${units(5)}`, remaining: units(7) });
    expect(day.counter).toBe(credit.adjustSpend.counter);
    const second = await submitOk(agent, { action: "llm.completion", estimatedCost: units(5) });
    expect(second.status).toBe("RESERVED");

    await server.client.ok(
      AdjustSpendDocument,
      { input: { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "DEBIT", amount: units(2), reason: "usage billed outside the server" } },
      as(admin),
    );
    expect(await windowOf(admin, "AGENT", agent.id)).toMatchObject({ settled: units(5), reserved: units(5), adjusted: `-${units(3)}`, remaining: "0" });
    expectRefused(await submit(agent, { action: "llm.completion", estimatedCost: units(1) }), "POLICY_DENIED");

    const audited = await db().select().from(auditEvents).where(and(eq(auditEvents.action, "spend.adjusted"), eq(auditEvents.targetId, credit.adjustSpend.counter)));
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({ actorType: "user", actorId: admin.user.id, outcome: "success" });
    expect(audited[0]!.details).toMatchObject({ kind: "CREDIT", amount: `-${units(5)}`, reason: "refund: provider outage", settledBefore: units(8), settledAfter: units(3) });

    const listed = (await server.client.ok(SpendAdjustmentsDocument, { filter: { per: "AGENT", subjectId: agent.id } }, as(manager))).spendAdjustments;
    expect(listed.totalCount).toBe(2);
    expect(listed.edges.map((edge) => edge.node.kind)).toEqual(["DEBIT", "CREDIT"]);
    const page = (await server.client.ok(SpendAdjustmentsDocument, { filter: { per: "AGENT", subjectId: agent.id }, first: 1 }, as(manager))).spendAdjustments;
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = (await server.client.ok(SpendAdjustmentsDocument, { filter: { per: "AGENT", subjectId: agent.id }, first: 1, after: page.pageInfo.endCursor }, as(manager)))
      .spendAdjustments;
    expect(rest.edges.map((edge) => edge.node.kind)).toEqual(["CREDIT"]);
  });

  it("a credit below zero is BAD_USER_INPUT and changes nothing; an earlier window can be named by an instant", async () => {
    const { agent } = await cappedAgent(10);
    const action = await submitOk(agent, { action: "llm.completion", estimatedCost: units(4) });
    await server.client.ok(SettleAgentActionDocument, { id: action.id, actualCost: units(4) }, agent.auth);
    const refused = await adjust(admin, { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "CREDIT", amount: units(5), reason: "too much" });
    expectRefused(refused, "BAD_USER_INPUT", "amount");
    expect(await windowOf(admin, "AGENT", agent.id)).toMatchObject({ settled: units(4), adjusted: "0" });
    expect(await db().select().from(spendAdjustments).where(eq(spendAdjustments.subject, agent.id))).toHaveLength(0);

    const lastYear = new Date(Date.now() - 400 * 24 * 3600_000).toISOString();
    const debit = await server.client.ok(
      AdjustSpendDocument,
      { input: { per: "AGENT", subjectId: agent.id, window: "MONTH", at: lastYear, kind: "DEBIT", amount: units(1), reason: "old invoice" } },
      as(admin),
    );
    expect(new Date(debit.adjustSpend.windowStart!).getTime()).toBeLessThan(Date.now() - 300 * 24 * 3600_000);
    expect((await windowOf(admin, "AGENT", agent.id, "MONTH")).adjusted).toBe("0");
    expectRefused(await adjust(admin, { per: "GLOBAL", subjectId: agent.id, window: "DAY", kind: "DEBIT", amount: units(1), reason: "x" }), "BAD_USER_INPUT", "subjectId");
    expectRefused(await adjust(admin, { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "DEBIT", amount: "0", reason: "x" }), "BAD_USER_INPUT", "amount");
    expectRefused(await adjust(admin, { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "DEBIT", amount: units(1), reason: "" }), "BAD_USER_INPUT", "reason");
  });

  it("is refused without spend:write (a manager, the owner); reading adjustments needs spend:read", async () => {
    const { owner, agent } = await cappedAgent(10);
    for (const who of [manager, owner]) {
      expectRefused(await adjust(who, { per: "AGENT", subjectId: agent.id, window: "DAY", kind: "DEBIT", amount: units(1), reason: "mine" }), "FORBIDDEN");
    }
    expectRefused(await server.client.request(SpendAdjustmentsDocument, {}, as(owner)), "FORBIDDEN");
    expect(await db().select().from(spendAdjustments).where(eq(spendAdjustments.subject, agent.id))).toHaveLength(0);
  });

  it("every counter of the agent equals its actions plus its adjustments", async () => {
    const { agent } = await cappedAgent(100);
    const settled = await submitOk(agent, { action: "llm.completion", estimatedCost: units(7) });
    await server.client.ok(SettleAgentActionDocument, { id: settled.id, actualCost: units(6) }, agent.auth);
    const released = await submitOk(agent, { action: "llm.completion", estimatedCost: units(4) });
    await server.client.ok(ReleaseAgentActionDocument, { id: released.id, reason: "test" }, as(admin));
    await submitOk(agent, { action: "llm.completion", estimatedCost: units(3) });
    for (const [window, kind, amount] of [["DAY", "CREDIT", 2], ["TOTAL", "DEBIT", 5], ["HOUR", "DEBIT", 1]] as const) {
      await server.client.ok(AdjustSpendDocument, { input: { per: "AGENT", subjectId: agent.id, window, kind, amount: units(amount), reason: "reconcile" } }, as(admin));
    }
    const actions = await db().select().from(agentActions).where(eq(agentActions.agentId, agent.id));
    const adjustments = await db().select().from(spendAdjustments).where(eq(spendAdjustments.subject, agent.id));
    // The agent's and its owner's counters (GLOBAL ones also hold the other tests' spend).
    const keys = [...new Set(actions.flatMap((row) => row.counterKeys))].filter((key) => !key.startsWith("GLOBAL/"));
    expect(keys).toHaveLength(10);
    const counters = await db().select().from(spendCounters).where(inArray(spendCounters.key, keys));
    for (const counter of counters) {
      const on = actions.filter((row) => row.counterKeys.includes(counter.key));
      const reserved = on.reduce((sum, row) => sum + row.reserved, 0n);
      const charged = on.reduce((sum, row) => sum + (row.status === "SETTLED" ? (row.actualCost ?? 0n) : 0n), 0n);
      const adjusted = adjustments.filter((row) => row.counterKey === counter.key).reduce((sum, row) => sum + row.amount, 0n);
      expect({ key: counter.key, reserved: counter.reserved, settled: counter.settled }).toEqual({ key: counter.key, reserved, settled: charged + adjusted });
    }
    expect((await windowOf(admin, "AGENT", agent.id, "TOTAL")).spent).toBe(units(6 + 3 + 5));
  });
});
