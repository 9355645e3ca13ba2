import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import {
  CancelRunDocument,
  CreateRoleDocument,
  FinishRunDocument,
  GrantRoleDocument,
  RerunDocument,
  RunDetailDocument,
  RunDocument,
  RunsDocument,
  StartRunDocument,
  type SessionCredentialsFragment,
  type StartRunInput,
} from "../generated/graphql";
import { createAgentWithKey, type AgentWithKey } from "../support/agent-fixtures";
import { as, expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import type { RequestOptions } from "../support/graphql-client";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Runs on their own: who may start, read, finish, cancel and rerun them, thread ids, the
 * filters of `runs`, and the audit rows each change writes. Actions inside runs are in
 * runs-actions.test.ts.
 */
const clock = new ManualClock(new Date("2026-05-04T08:00:00.000Z"));
let server: TestServer;
let admin: SessionCredentialsFragment;
const MISSING = "00000000-0000-4000-8000-00000000abcd";

beforeAll(async () => {
  server = await startTestServer({ clock });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

async function ownerWithAgent(): Promise<{ owner: SessionCredentialsFragment; agent: AgentWithKey }> {
  const owner = await registerUser(server.client);
  return { owner, agent: await createAgentWithKey(server.client, owner) };
}

async function withRole(role: string): Promise<SessionCredentialsFragment> {
  const user = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: user.user.id, role }, as(admin));
  return loginUser(server.client, user.user.email, user.password);
}

async function startAs(who: RequestOptions, input: StartRunInput) {
  return (await server.client.ok(StartRunDocument, { input }, who)).startRun;
}

async function runAudit(runId: string) {
  return server.app.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.targetType, "run"), eq(auditEvents.targetId, runId)))
    .orderBy(auditEvents.seq);
}

describe("starting runs", () => {
  it("starts a run for one's own agent, or as the agent for itself, audited as run.started", async () => {
    const { owner, agent } = await ownerWithAgent();
    const run = await startAs(as(owner), { agentId: agent.id, name: "summarise inbox", instructions: "be brief", initialData: [1, { a: "b" }], metadata: { ticket: 7 } });
    expect(run).toMatchObject({
      ownerId: owner.user.id,
      agentId: agent.id,
      name: "summarise inbox",
      instructions: "be brief",
      initialData: [1, { a: "b" }],
      metadata: { ticket: 7 },
      status: "RUNNING",
      startedBy: "USER",
      finishedAt: null,
      rerunOfId: null,
    });
    const own = await startAs(agent.auth, { name: "self-started" });
    expect(own).toMatchObject({ ownerId: owner.user.id, agentId: agent.id, startedBy: "AGENT" });
    const audit = await runAudit(run.id);
    expect(audit.map((row) => [row.action, row.actorType, row.actorId])).toEqual([["run.started", "user", owner.user.id]]);
    expect((await runAudit(own.id)).map((row) => [row.action, row.actorType, row.actorId])).toEqual([["run.started", "agent", agent.id]]);
  });

  it("refuses another user's agent as NOT_FOUND, like an agent that does not exist, and writes nothing", async () => {
    const { agent } = await ownerWithAgent();
    const { owner: stranger, agent: strangersAgent } = await ownerWithAgent();
    const before = await server.client.ok(RunsDocument, {}, as(admin));
    expectRefused(await server.client.request(StartRunDocument, { input: { agentId: agent.id, name: "x" } }, as(stranger)), "NOT_FOUND");
    expectRefused(await server.client.request(StartRunDocument, { input: { agentId: MISSING, name: "x" } }, as(stranger)), "NOT_FOUND");
    // An agent starts runs for itself only.
    expectRefused(await server.client.request(StartRunDocument, { input: { agentId: agent.id, name: "x" } }, strangersAgent.auth), "NOT_FOUND");
    expectRefused(await server.client.request(StartRunDocument, { input: { name: "x" } }, as(stranger)), "BAD_USER_INPUT", "agentId");
    expectRefused(await server.client.request(StartRunDocument, { input: { agentId: strangersAgent.id, name: "  " } }, as(stranger)), "BAD_USER_INPUT", "name");
    expectRefused(
      await server.client.request(StartRunDocument, { input: { agentId: strangersAgent.id, name: "x", threadId: "has space" } }, as(stranger)),
      "BAD_USER_INPUT",
      "threadId",
    );
    const after = await server.client.ok(RunsDocument, {}, as(admin));
    expect(after.runs.totalCount).toBe(before.runs.totalCount);
  });

  it("treats a thread id as unique per owner: the same input again is the same run, other input a CONFLICT", async () => {
    const { owner, agent } = await ownerWithAgent();
    const input = { agentId: agent.id, threadId: "thread-42", name: "nightly", initialData: { day: 1 } };
    const first = await startAs(as(owner), input);
    const again = await startAs(as(owner), { ...input, initialData: { day: 1 } });
    expect(again.id).toBe(first.id);
    expectRefused(await server.client.request(StartRunDocument, { input: { ...input, initialData: { day: 2 } } }, as(owner)), "CONFLICT", "threadId");
    expect((await runAudit(first.id)).length).toBe(1);
    expect((await server.client.ok(RunDocument, { threadId: "thread-42" }, as(owner))).run.id).toBe(first.id);
    // Another owner's thread of the same name is theirs alone.
    const { owner: other, agent: othersAgent } = await ownerWithAgent();
    expectRefused(await server.client.request(RunDocument, { threadId: "thread-42" }, as(other)), "NOT_FOUND");
    const theirs = await startAs(as(other), { ...input, agentId: othersAgent.id });
    expect(theirs.id).not.toBe(first.id);
  });
});

describe("who sees and acts on a run", () => {
  it("shows a run to its owner, its agent and runs:read; to anyone else it does not exist", async () => {
    const { owner, agent } = await ownerWithAgent();
    const run = await startAs(as(owner), { agentId: agent.id, name: "private" });
    const { owner: stranger, agent: strangersAgent } = await ownerWithAgent();
    const sibling = await createAgentWithKey(server.client, owner, "sibling");
    const officer = await withRole("COMPLIANCE_OFFICER");
    const manager = await withRole("MANAGER");

    expect((await server.client.ok(RunDocument, { id: run.id }, as(owner))).run.id).toBe(run.id);
    expect((await server.client.ok(RunDocument, { id: run.id }, agent.auth)).run.id).toBe(run.id);
    expect((await server.client.ok(RunDetailDocument, { id: run.id }, as(officer))).run.id).toBe(run.id);
    expect((await server.client.ok(RunDetailDocument, { id: run.id }, as(admin))).run.id).toBe(run.id);
    for (const who of [as(stranger), as(manager), strangersAgent.auth, sibling.auth]) {
      const missing = await server.client.request(RunDocument, { id: MISSING }, who);
      const hidden = await server.client.request(RunDetailDocument, { id: run.id }, who);
      expect(expectRefused(hidden, "NOT_FOUND")).toBe(expectRefused(missing, "NOT_FOUND"));
      expect(hidden.data).toBeNull();
      const listed = await server.client.ok(RunsDocument, { filter: { ownerId: owner.user.id } }, who);
      expect(listed.runs).toMatchObject({ totalCount: 0, edges: [] });
      for (const mutation of [FinishRunDocument, CancelRunDocument, RerunDocument] as const) {
        const variables = mutation === FinishRunDocument ? { id: run.id, status: "SUCCEEDED" as const } : { id: run.id };
        expectRefused(await server.client.request(mutation as typeof RerunDocument, variables, who), "NOT_FOUND");
      }
    }
    const officersList = await server.client.ok(RunsDocument, { filter: { ownerId: owner.user.id } }, as(officer));
    expect(officersList.runs.edges.map((edge) => edge.node.id)).toEqual([run.id]);
    // runs:read reads; it does not cancel, finish or rerun someone else's run.
    expectRefused(await server.client.request(CancelRunDocument, { id: run.id }, as(officer)), "FORBIDDEN");
    expectRefused(await server.client.request(RerunDocument, { id: run.id }, as(admin)), "FORBIDDEN");
    expect((await server.client.ok(RunDocument, { id: run.id }, as(owner))).run.status).toBe("RUNNING");
    // runs:write cancels any run.
    expect((await server.client.ok(CancelRunDocument, { id: run.id }, as(admin))).cancelRun.status).toBe("CANCELLED");
    expect((await runAudit(run.id)).map((row) => [row.action, row.actorId])).toEqual([
      ["run.started", owner.user.id],
      ["run.cancelled", admin.user.id],
    ]);
  });

  it("gives runs:read through a custom role too", async () => {
    const { owner, agent } = await ownerWithAgent();
    const run = await startAs(as(owner), { agentId: agent.id, name: "audited" });
    await server.client.ok(CreateRoleDocument, { input: { name: "RUN_READER", permissions: ["runs:read"], inherits: ["USER"] } }, as(admin));
    const reader = await withRole("RUN_READER");
    expect((await server.client.ok(RunDocument, { id: run.id }, as(reader))).run.id).toBe(run.id);
  });
});

describe("finishing, cancelling and re-running", () => {
  it("lets the agent report the end once, with its output; a different report or a cancel is a CONFLICT", async () => {
    const { owner, agent } = await ownerWithAgent();
    const run = await startAs(as(owner), { agentId: agent.id, name: "report" });
    clock.advance(60_000);
    const finished = (await server.client.ok(FinishRunDocument, { id: run.id, status: "SUCCEEDED", output: { pages: 3 } }, agent.auth)).finishRun;
    expect(finished).toMatchObject({ status: "SUCCEEDED", output: { pages: 3 }, finishedAt: clock.now().toISOString() });
    const again = (await server.client.ok(FinishRunDocument, { id: run.id, status: "SUCCEEDED", output: { pages: 3 } }, agent.auth)).finishRun;
    expect(again.finishedAt).toBe(finished.finishedAt);
    expectRefused(await server.client.request(FinishRunDocument, { id: run.id, status: "FAILED" }, agent.auth), "CONFLICT");
    expectRefused(await server.client.request(CancelRunDocument, { id: run.id }, as(owner)), "CONFLICT");
    expect((await runAudit(run.id)).map((row) => [row.action, row.actorType, row.details.status ?? null])).toEqual([
      ["run.started", "user", null],
      ["run.finished", "agent", "SUCCEEDED"],
    ]);
  });

  it("re-runs with the same input as a new run linked to the old one", async () => {
    const { owner, agent } = await ownerWithAgent();
    const input = { agentId: agent.id, threadId: "t-rerun", name: "crawl", instructions: "site A", initialData: { depth: 2 }, metadata: { k: "v" } };
    const first = await startAs(as(owner), input);
    await server.client.ok(FinishRunDocument, { id: first.id, status: "FAILED", output: { error: "timeout" } }, agent.auth);
    const second = (await server.client.ok(RerunDocument, { id: first.id }, as(owner))).rerun;
    expect(second).toMatchObject({
      name: "crawl",
      instructions: "site A",
      initialData: { depth: 2 },
      metadata: { k: "v" },
      agentId: agent.id,
      threadId: null,
      status: "RUNNING",
      rerunOfId: first.id,
      rerunOf: { id: first.id },
    });
    clock.advance(1000);
    const third = (await server.client.ok(RerunDocument, { id: first.id }, agent.auth)).rerun;
    const detail = (await server.client.ok(RunDetailDocument, { id: first.id }, as(owner))).run;
    expect(detail.reruns.map((run) => run.id)).toEqual([second.id, third.id]);
    expect(detail.rerunOf).toBeNull();
    expect((await runAudit(second.id)).map((row) => [row.action, row.details.rerunOf])).toEqual([["run.rerun", first.id]]);
  });
});

describe("listing runs", () => {
  it("filters by status, agent, owner and time range, newest first, with totalCount and cursors", async () => {
    const { owner, agent } = await ownerWithAgent();
    const other = await createAgentWithKey(server.client, owner, "second");
    const from = new Date(clock.now().getTime() + 1000).toISOString();
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      clock.advance(60_000);
      ids.push((await startAs(as(owner), { agentId: index === 3 ? other.id : agent.id, name: `run ${index}` })).id);
    }
    await server.client.ok(FinishRunDocument, { id: ids[0] as string, status: "SUCCEEDED" }, agent.auth);
    await server.client.ok(CancelRunDocument, { id: ids[1] as string }, as(owner));
    const list = (filter: object, first?: number, after?: string) => server.client.ok(RunsDocument, { filter, first, after }, as(owner));

    const all = (await list({ from })).runs;
    expect(all.totalCount).toBe(4);
    expect(all.edges.map((edge) => edge.node.id)).toEqual([...ids].reverse());
    expect((await list({ from, status: ["RUNNING"] })).runs.edges.map((edge) => edge.node.id)).toEqual([ids[3], ids[2]]);
    expect((await list({ from, status: ["SUCCEEDED", "CANCELLED"] })).runs.totalCount).toBe(2);
    expect((await list({ from, agentId: other.id })).runs.edges.map((edge) => edge.node.id)).toEqual([ids[3]]);
    const mid = new Date(new Date(from).getTime() + 120_000).toISOString();
    expect((await list({ from, to: mid })).runs.edges.map((edge) => edge.node.id)).toEqual([ids[1], ids[0]]);
    // The agent's own list holds only its runs.
    expect((await server.client.ok(RunsDocument, { filter: { from } }, other.auth)).runs.edges.map((edge) => edge.node.id)).toEqual([ids[3]]);

    const page1 = (await list({ from }, 3)).runs;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await list({ from }, 3, page1.pageInfo.endCursor as string)).runs;
    expect(page2.edges.map((edge) => edge.node.id)).toEqual([ids[0]]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expectRefused(await server.client.request(RunsDocument, { after: "not-a-cursor" }, as(owner)), "BAD_USER_INPUT", "after");
  });
});
