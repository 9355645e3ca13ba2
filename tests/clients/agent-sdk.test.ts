import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentApiError,
  ApprovalRejectedError,
  ApprovalTimeoutError,
  createAgentClient,
  PolicyDeniedError,
  SettleFailedError,
  type AgentClientOptions,
} from "../../clients/agent/src";
import { AgentActionsDocument, ApproveAgentActionDocument, GrantRoleDocument, RejectAgentActionDocument, RunDetailDocument } from "../generated/graphql";
import { units } from "../support/agent-fixtures";
import { as } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { agentDay, governedAgent, ownersView, type GovernedAgent } from "./sdk-fixtures";

/**
 * The agent SDK (clients/agent) against a real server over HTTP: `governed` runs the work
 * only under a reservation, settles what it cost, cancels when it throws, waits for
 * approvers, and retries a lost answer under the same idempotency key without a second charge.
 */
let server: TestServer;
let admin: { accessToken: string };
let manager: { accessToken: string };

beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const user = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: user.user.id, role: "MANAGER" }, as(admin));
  manager = await loginUser(server.client, user.user.email, user.password);
});
afterAll(() => server.close());

const fresh = () => governedAgent(server.client, admin);
const sdkFor = (subject: GovernedAgent, options: Partial<AgentClientOptions> = {}) =>
  createAgentClient({ url: server.url, apiKey: subject.agent.key, pollMs: 50, retry: { baseMs: 10, maxMs: 50 }, ...options });

/** The agent's held action, once the SDK has submitted it, as an approver finds it. */
async function heldAction(subject: GovernedAgent): Promise<string> {
  for (let tries = 0; tries < 200; tries++) {
    const page = await server.client.ok(AgentActionsDocument, { filter: { agentId: subject.agent.id, status: ["PENDING_APPROVAL"] } }, as(manager));
    if (page.agentActions.edges[0]) return page.agentActions.edges[0].node.id;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("no held action appeared");
}

describe("governed", () => {
  it("allowed: runs the work once under a reservation and settles the cost it reports", async () => {
    const subject = await fresh();
    let ran = 0;
    const outcome = await sdkFor(subject).governed(
      { action: "llm.chat", estimatedCost: units(5), resource: "model:small", metadata: { tokens: 900 } },
      async (action) => {
        ran++;
        expect(action).toMatchObject({ status: "RESERVED", reserved: units(5) });
        return { actualCost: units(3), result: "the answer" };
      },
    );
    expect(ran).toBe(1);
    expect(outcome).toMatchObject({ status: "SETTLED", result: "the answer", settled: { status: "SETTLED", actualCost: units(3), reserved: "0" } });

    const seen = await ownersView(server.client, subject);
    expect(seen.totalCount).toBe(1);
    expect(seen.edges[0]!.node).toMatchObject({ id: outcome.actionId, status: "SETTLED", actualCost: units(3), resource: "model:small", metadata: { tokens: 900 } });
    expect(await agentDay(server.client, subject)).toMatchObject({ reserved: "0", settled: units(3) });
  });

  it("denied: a PolicyDeniedError with the decision id and the cap's reason; the work never runs", async () => {
    const subject = await fresh();
    let ran = false;
    const refusal = await sdkFor(subject)
      .governed({ action: "llm.chat", estimatedCost: units(150) }, async () => {
        ran = true;
        return { actualCost: 0, result: null };
      })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PolicyDeniedError);
    const denied = refusal as PolicyDeniedError;
    expect(denied.code).toBe("POLICY_DENIED");
    expect(denied.reasons[0]).toMatchObject({ code: "CAP_EXCEEDED", per: "AGENT", window: "DAY", limit: units(100), cost: units(150) });
    expect(ran).toBe(false);
    const seen = await ownersView(server.client, subject);
    expect(seen.edges.map((edge) => [edge.node.id, edge.node.status])).toEqual([[denied.decisionId, "DENIED"]]);
  });

  it("work throws: the reservation is cancelled and the work's own error surfaces", async () => {
    const subject = await fresh();
    const failure = new Error("the model timed out");
    let actionId = "";
    const thrown = await sdkFor(subject)
      .governed({ action: "llm.chat", estimatedCost: units(7) }, async (action) => {
        actionId = action.id;
        throw failure;
      })
      .catch((error: unknown) => error);
    expect(thrown).toBe(failure);
    const seen = await ownersView(server.client, subject);
    expect(seen.edges[0]!.node).toMatchObject({ id: actionId, status: "CANCELLED", reserved: "0", actualCost: null });
    expect(await agentDay(server.client, subject)).toMatchObject({ reserved: "0", settled: "0" });
  });

  it("a settle refused beyond the overrun bound keeps the work's result in SettleFailedError; the reservation stays", async () => {
    const subject = await fresh();
    const thrown = await sdkFor(subject)
      .governed({ action: "llm.chat", estimatedCost: units(5) }, async () => ({ actualCost: units(11), result: "costly answer" }))
      .catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(SettleFailedError);
    const failed = thrown as SettleFailedError<string>;
    expect(failed.result).toBe("costly answer");
    expect(failed.cause).toBeInstanceOf(PolicyDeniedError);
    expect((failed.cause as PolicyDeniedError).extensions).toMatchObject({ bound: "CEILING", allowed: units(10), requested: units(11) });
    const seen = await ownersView(server.client, subject);
    expect(seen.edges[0]!.node).toMatchObject({ id: failed.actionId, status: "RESERVED", reserved: units(5) });
  });

  it("bad input is an AgentApiError naming the field, sent once and never retried", async () => {
    const subject = await fresh();
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const thrown = await sdkFor(subject, { fetch: counting })
      .governed({ action: "llm.*", estimatedCost: units(1) }, async () => ({ actualCost: 0, result: null }))
      .catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(AgentApiError);
    expect(thrown).toMatchObject({ code: "BAD_USER_INPUT", field: "action", transient: false });
    expect(requests).toBe(1);
  });
});

describe("held for approval", () => {
  it("waits while an approver approves, then runs the work and settles", async () => {
    const subject = await fresh();
    let ran = 0;
    const pending = sdkFor(subject).governed({ action: "payments.refund", estimatedCost: units(20), resource: "invoice:7" }, async () => {
      ran++;
      return { actualCost: units(20), result: "refunded" };
    });
    const id = await heldAction(subject);
    expect(ran).toBe(0);
    await server.client.ok(ApproveAgentActionDocument, { id, note: "checked" }, as(manager));
    expect(await pending).toMatchObject({ status: "SETTLED", actionId: id, result: "refunded", settled: { actualCost: units(20) } });
    expect(ran).toBe(1);
  });

  it("gives up after approvalTimeoutMs with ApprovalTimeoutError; the action stays held for a person", async () => {
    const subject = await fresh();
    let ran = false;
    const thrown = await sdkFor(subject, { approvalTimeoutMs: 300 })
      .governed({ action: "payments.refund", estimatedCost: units(20) }, async () => {
        ran = true;
        return { actualCost: 0, result: null };
      })
      .catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(ApprovalTimeoutError);
    const seen = await ownersView(server.client, subject);
    expect(seen.edges[0]!.node).toMatchObject({ id: (thrown as ApprovalTimeoutError).actionId, status: "PENDING_APPROVAL" });
    expect(ran).toBe(false);
  });

  it("a rejection ends the wait with ApprovalRejectedError; the work never runs", async () => {
    const subject = await fresh();
    let ran = false;
    const pending = sdkFor(subject)
      .governed({ action: "payments.refund", estimatedCost: units(20) }, async () => {
        ran = true;
        return { actualCost: 0, result: null };
      })
      .catch((error: unknown) => error);
    const id = await heldAction(subject);
    await server.client.ok(RejectAgentActionDocument, { id, note: "not this one" }, as(manager));
    expect(await pending).toMatchObject({ name: "ApprovalRejectedError", actionId: id, status: "REJECTED" });
    expect(await pending).toBeInstanceOf(ApprovalRejectedError);
    expect(ran).toBe(false);
  });

  it("waitForApproval: false returns the hold at once without running the work", async () => {
    const subject = await fresh();
    let ran = false;
    const outcome = await sdkFor(subject).governed({ action: "payments.refund", estimatedCost: units(20), waitForApproval: false }, async () => {
      ran = true;
      return { actualCost: 0, result: null };
    });
    expect(outcome).toMatchObject({ status: "PENDING_APPROVAL", action: { status: "PENDING_APPROVAL", reserved: "0" } });
    expect((await ownersView(server.client, subject)).edges[0]!.node.id).toBe(outcome.actionId);
    expect(ran).toBe(false);
  });
});

describe("retries", () => {
  it("a lost answer to the submit and to the settle is retried under the same key: one action, charged once", async () => {
    const subject = await fresh();
    const lost = new Set<string>();
    let requests = 0;
    // The server decides (and settles), but the client never sees the first answer of each.
    const losesFirstAnswers: typeof fetch = async (input, init) => {
      requests++;
      const response = await fetch(input, init);
      const operation = /(submitAgentAction|settleAgentAction)/.exec(String(init?.body))?.[1];
      if (operation && !lost.has(operation)) {
        lost.add(operation);
        await response.text();
        throw new TypeError("fetch failed: socket hang up");
      }
      return response;
    };
    let ran = 0;
    const outcome = await sdkFor(subject, { fetch: losesFirstAnswers }).governed({ action: "llm.chat", estimatedCost: units(10) }, async () => {
      ran++;
      return { actualCost: units(4), result: "done" };
    });
    expect(lost).toEqual(new Set(["submitAgentAction", "settleAgentAction"]));
    expect(requests).toBe(4);
    expect(ran).toBe(1);
    expect(outcome).toMatchObject({ status: "SETTLED", settled: { actualCost: units(4) } });
    const seen = await ownersView(server.client, subject);
    expect(seen.totalCount).toBe(1);
    expect(seen.edges[0]!.node).toMatchObject({ id: outcome.actionId, status: "SETTLED", idempotencyKey: outcome.status === "SETTLED" ? outcome.settled.idempotencyKey : "" });
    expect(await agentDay(server.client, subject)).toMatchObject({ reserved: "0", settled: units(4) });
  });
});

describe("runs", () => {
  it("an agent starts its run, governs actions in it and finishes it; the owner sees them together", async () => {
    const subject = await fresh();
    const sdk = sdkFor(subject);
    const run = await sdk.startRun({ name: "summarise inbox", threadId: "inbox-1" });
    expect(await sdk.startRun({ name: "summarise inbox", threadId: "inbox-1" })).toMatchObject({ id: run.id });
    const outcome = await sdk.governed({ action: "llm.chat", estimatedCost: units(2), runId: run.id }, async () => ({ actualCost: units(1), result: 1 }));
    expect(await sdk.finishRun(run.id, "SUCCEEDED", { threads: 1 })).toMatchObject({ status: "SUCCEEDED", output: { threads: 1 } });

    const seen = (await server.client.ok(RunDetailDocument, { id: run.id }, as(subject.owner))).run;
    expect(seen).toMatchObject({ status: "SUCCEEDED", spend: { settled: units(1), reserved: "0" } });
    expect(seen.actions.edges.map((edge) => edge.node.id)).toEqual([outcome.actionId]);
  });
});
