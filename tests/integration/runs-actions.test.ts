import crypto from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { agentActions, auditEvents } from "../../src/db/schema";
import { finishedRunRefusal } from "../../src/runs/run-gate";
import {
  AgentActionRunDocument,
  ApproveAgentActionDocument,
  AuditRunsDocument,
  CreateRoleDocument,
  FinishRunDocument,
  GrantRoleDocument,
  ReplayDecisionDocument,
  RunDetailDocument,
  RunsDocument,
  SettleAgentActionDocument,
  StartRunDocument,
  SubmitRunActionDocument,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { BACKEND } from "../support/backend";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Actions inside runs: an action names its run, the run lists its actions, spend, held
 * actions and log; a finished run takes no new action (also when it finishes while the
 * action is being decided); a held action makes the run read WAITING_APPROVAL; and every way
 * to reach a run from an action or an audit event applies the run's own access rule.
 */
const clock = new ManualClock(new Date("2026-06-01T10:00:00.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;
let manager: SessionCredentialsFragment;
let officer: SessionCredentialsFragment;
const accounts: { email: string; password: string; role: string }[] = [];

async function withRole(role: string): Promise<SessionCredentialsFragment> {
  const user = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: user.user.id, role }, as(admin));
  accounts.push({ email: user.user.email, password: user.password, role });
  return loginUser(server.client, user.user.email, user.password);
}

beforeAll(async () => {
  server = await startTestServer({ clock, env: { ACTION_APPROVAL_TTL: "24h" } });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  manager = await withRole("MANAGER");
  officer = await withRole("COMPLIANCE_OFFICER");
});
// Access tokens expire as the clock moves: sign in again at the new time.
beforeEach(async () => {
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  manager = await loginUser(server.client, accounts[0]!.email, accounts[0]!.password);
  officer = await loginUser(server.client, accounts[1]!.email, accounts[1]!.password);
});
afterAll(() => server.close());

/** An owner, their agent (llm.* allowed, payments.* held for approval) and a run of it. */
async function agentWithRun(): Promise<{ owner: SessionCredentialsFragment; agent: AgentWithKey; runId: string }> {
  const owner = await registerUser(server.client);
  const agent = await createAgentWithKey(server.client, owner);
  await createPolicy(server.client, admin, {
    name: "run test",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [
      { pattern: "llm.*", effect: "ALLOW" },
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
    ],
  });
  const { startRun } = await server.client.ok(StartRunDocument, { input: { agentId: agent.id, name: "work" } }, as(owner));
  return { owner, agent, runId: startRun.id };
}

const submit = (agent: AgentWithKey, input: { action: string; estimatedCost: string; runId?: string; idempotencyKey?: string }) =>
  server.client.request(SubmitRunActionDocument, { input }, agent.auth);

async function actionCount(): Promise<number> {
  const [row] = await server.app.database.db.select({ count: sql<number>`count(*)::int` }).from(agentActions);
  return row?.count ?? 0;
}

describe("actions of a run", () => {
  it("records the run with the action, in its decision record, and in the run's actions, spend and log", async () => {
    const { owner, agent, runId } = await agentWithRun();
    const first = (await submit(agent, { action: "llm.chat", estimatedCost: units(3), runId })).data!.submitAgentAction;
    expect(first).toMatchObject({ status: "RESERVED", runId, run: { id: runId, status: "RUNNING" } });
    const second = (await submit(agent, { action: "llm.chat", estimatedCost: units(2), runId })).data!.submitAgentAction;
    await server.client.ok(SettleAgentActionDocument, { id: first.id, actualCost: units(1) }, agent.auth);
    await submit(agent, { action: "llm.chat", estimatedCost: units(5) }); // not part of the run

    const [stored] = await server.app.database.db.select().from(agentActions).where(eq(agentActions.id, first.id));
    expect(stored?.runId).toBe(runId);
    expect((stored?.record as { request: { runId?: string } }).request.runId).toBe(runId);
    expect((await server.client.ok(ReplayDecisionDocument, { actionId: first.id }, as(owner))).replayDecision.matches).toBe(true);

    const run = (await server.client.ok(RunDetailDocument, { id: runId }, as(owner))).run;
    expect(run.spend).toEqual({ reserved: units(2), settled: units(1) });
    expect(run.actions.totalCount).toBe(2);
    expect(run.actions.edges.map((edge) => edge.node.id).sort()).toEqual([first.id, second.id].sort());
    const log = run.auditEvents.edges.map((edge) => edge.node);
    expect(log.map((event) => event.action)).toEqual(["agent.action.settled", "agent.action.decided", "agent.action.decided", "run.started"]);
    expect(run.auditEvents.totalCount).toBe(4);
    // The owner reads the log without the audit details (other tenants' figures, ips); audit:read holders with them.
    expect(log.every((event) => event.details === null)).toBe(true);
    const officersLog = (await server.client.ok(RunDetailDocument, { id: runId }, as(officer))).run.auditEvents.edges;
    expect(officersLog[1]?.node.details).toMatchObject({ decisionId: expect.any(String), input: { runId } });
  });

  it("refuses another agent's run and a missing run alike (NOT_FOUND), and writes nothing", async () => {
    const { agent } = await agentWithRun();
    const { runId: othersRun } = await agentWithRun();
    const before = await actionCount();
    const hidden = expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId: othersRun }), "NOT_FOUND");
    const missing = expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId: crypto.randomUUID() }), "NOT_FOUND");
    expect(hidden).toBe(missing);
    expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId: "nope" }), "BAD_USER_INPUT", "runId");
    expect(await actionCount()).toBe(before);
  });

  it("refuses new actions once the run is finished, and a key reused with another run", async () => {
    const { agent, runId } = await agentWithRun();
    await submit(agent, { action: "llm.chat", estimatedCost: "0", runId, idempotencyKey: "k1" });
    const { startRun: other } = await server.client.ok(StartRunDocument, { input: { name: "other" } }, agent.auth);
    expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId: other.id, idempotencyKey: "k1" }), "CONFLICT", "idempotencyKey");
    await server.client.ok(FinishRunDocument, { id: runId, status: "SUCCEEDED" }, agent.auth);
    const before = await actionCount();
    expectRefused(await submit(agent, { action: "llm.chat", estimatedCost: "0", runId }), "CONFLICT", "runId");
    expect(await actionCount()).toBe(before);
    // A retry of an action decided before the run finished still gets its first decision.
    expect((await submit(agent, { action: "llm.chat", estimatedCost: "0", runId, idempotencyKey: "k1" })).data?.submitAgentAction.runId).toBe(runId);
  });

  it("has the database refuse an action of a finished run on any path that writes one", async () => {
    const { agent, runId } = await agentWithRun();
    await server.client.ok(FinishRunDocument, { id: runId, status: "FAILED" }, agent.auth);
    const insert = server.app.database.db.insert(agentActions).values({
      id: crypto.randomUUID(),
      agentId: agent.id,
      ownerId: agent.ownerId,
      action: "llm.chat",
      estimatedCost: 0n,
      inputHash: "x",
      outcome: "ALLOWED",
      status: "RESERVED",
      reasons: [],
      record: {},
      decidedAt: clock.now(),
      runId,
    });
    const error = await insert.then(() => undefined, (caught: unknown) => caught);
    expect(finishedRunRefusal(error)?.extensions.code).toBe("CONFLICT");
  });

  if (BACKEND === "postgres") {
    it("refuses an action whose run finishes while it waits to be written (postgres: concurrent transactions)", async () => {
      const { agent, runId } = await agentWithRun();
      const { db } = server.app.database;
      const before = await actionCount();
      let answer: Awaited<ReturnType<typeof submit>> | undefined;
      await db.transaction(async (tx) => {
        // A finishRun in progress: the run row is locked, the run not finished yet.
        await tx.execute(sql`SELECT id FROM runs WHERE id = ${runId} FOR UPDATE`);
        const pending = submit(agent, { action: "llm.chat", estimatedCost: "0", runId }).then((response) => (answer = response));
        // Wait until the decision's insert waits on the run row (its check has passed).
        for (let tries = 0; tries < 200; tries += 1) {
          const result = await db.execute(sql`SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          const [row] = result as unknown as { waiting: number }[];
          if (Number(row?.waiting) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await tx.execute(sql`UPDATE runs SET status = 'SUCCEEDED', finished_at = now() WHERE id = ${runId}`);
        void pending;
      });
      for (let tries = 0; tries < 200 && answer === undefined; tries += 1) await new Promise((resolve) => setTimeout(resolve, 25));
      expectRefused(answer!, "CONFLICT", "runId");
      expect(await actionCount()).toBe(before);
    });
  }
});

describe("runs waiting for approval", () => {
  it("reads WAITING_APPROVAL while an action is held, RUNNING again once it is approved or expired", async () => {
    const { owner, agent, runId } = await agentWithRun();
    const held = (await submit(agent, { action: "payments.transfer", estimatedCost: units(1), runId })).data!.submitAgentAction;
    expect(held).toMatchObject({ status: "PENDING_APPROVAL", run: { status: "WAITING_APPROVAL" } });
    const detail = (await server.client.ok(RunDetailDocument, { id: runId }, as(owner))).run;
    expect(detail.status).toBe("WAITING_APPROVAL");
    expect(detail.pendingApprovals).toEqual([{ id: held.id, status: "PENDING_APPROVAL" }]);
    const waiting = await server.client.ok(RunsDocument, { filter: { status: ["WAITING_APPROVAL"] } }, as(owner));
    expect(waiting.runs.edges.map((edge) => edge.node.id)).toEqual([runId]);
    expect((await server.client.ok(RunsDocument, { filter: { status: ["RUNNING"] } }, as(owner))).runs.totalCount).toBe(0);

    await server.client.ok(ApproveAgentActionDocument, { id: held.id }, as(manager));
    const approved = (await server.client.ok(RunDetailDocument, { id: runId }, as(owner))).run;
    expect(approved).toMatchObject({ status: "RUNNING", pendingApprovals: [], spend: { reserved: units(1), settled: "0" } });

    await submit(agent, { action: "payments.refund", estimatedCost: "0", runId });
    expect((await server.client.ok(RunDetailDocument, { id: runId }, as(owner))).run.status).toBe("WAITING_APPROVAL");
    clock.advance(24 * 3_600_000 + 1);
    // Expired, though no sweeper has released it yet: the run reads RUNNING, in views and filters.
    const owner2 = await loginUser(server.client, owner.user.email);
    expect((await server.client.ok(RunDetailDocument, { id: runId }, as(owner2))).run).toMatchObject({ status: "RUNNING", pendingApprovals: [] });
    expect((await server.client.ok(RunsDocument, { filter: { status: ["RUNNING"] } }, as(owner2))).runs.totalCount).toBe(1);
  });

  it("withdraws the held actions of a run when it finishes", async () => {
    const { owner, agent, runId } = await agentWithRun();
    const held = (await submit(agent, { action: "payments.transfer", estimatedCost: units(1), runId })).data!.submitAgentAction;
    expect((await server.client.ok(FinishRunDocument, { id: runId, status: "SUCCEEDED" }, agent.auth)).finishRun.status).toBe("SUCCEEDED");
    const run = (await server.client.ok(RunDetailDocument, { id: runId }, as(owner))).run;
    expect(run.pendingApprovals).toEqual([]);
    expect(run.actions.edges[0]?.node).toMatchObject({ id: held.id, status: "CANCELLED" });
    const released = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.targetId, held.id));
    expect(released.map((row) => [row.action, row.details.reason ?? null])).toContainEqual(["agent.action.released", "run.finished"]);
    expectRefused(await server.client.request(ApproveAgentActionDocument, { id: held.id }, as(manager)), "CONFLICT");
  });
});

describe("reaching a run from an action or an audit event", () => {
  it("applies the run's access rule: null for those who may see the action or event but not the run", async () => {
    const { owner, agent, runId } = await agentWithRun();
    const action = (await submit(agent, { action: "llm.chat", estimatedCost: "0", runId })).data!.submitAgentAction;
    const { owner: stranger } = await agentWithRun();
    // Owner and runs:read reach it; a MANAGER reads every action (actions:approve) but not runs.
    expect((await server.client.ok(AgentActionRunDocument, { id: action.id }, as(owner))).agentAction.run?.id).toBe(runId);
    expect((await server.client.ok(AgentActionRunDocument, { id: action.id }, as(officer))).agentAction.run?.id).toBe(runId);
    expect((await server.client.ok(AgentActionRunDocument, { id: action.id }, as(manager))).agentAction).toMatchObject({ runId, run: null });
    expectRefused(await server.client.request(AgentActionRunDocument, { id: action.id }, as(stranger)), "NOT_FOUND");

    const ofAction = { filter: { targetId: action.id } };
    const ofRun = { filter: { targetId: runId } };
    expect((await server.client.ok(AuditRunsDocument, ofAction, as(officer))).audit.edges.map((edge) => edge.node.run?.id)).toEqual([runId]);
    expect((await server.client.ok(AuditRunsDocument, ofRun, as(officer))).audit.edges.map((edge) => edge.node.run?.id)).toEqual([runId]);
    await server.client.ok(CreateRoleDocument, { input: { name: "TRAIL_READER", permissions: ["audit:read"], inherits: ["USER"] } }, as(admin));
    const trailReader = await withRole("TRAIL_READER");
    const seen = (await server.client.ok(AuditRunsDocument, ofRun, as(trailReader))).audit.edges.map((edge) => edge.node);
    expect(seen).toEqual([{ action: "run.started", targetType: "run", targetId: runId, run: null }]);
    expect((await server.client.ok(AuditRunsDocument, ofAction, as(trailReader))).audit.edges.map((edge) => edge.node.run)).toEqual([null]);
  });
});
