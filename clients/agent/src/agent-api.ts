import { randomUUID } from "node:crypto";
import { AgentApiError } from "./errors";
import { CANCEL, FINISH_RUN, MY_ACTIONS, SETTLE, START_RUN, SUBMIT } from "./operations";
import type { Send } from "./transport";
import type { ActionInput, AgentAction, MoneyInput, Run, StartRunInput } from "./types";

/** A Money input as the server takes it: a string of digits (a bigint or a safe integer is converted). */
export function toMoney(value: MoneyInput): string {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new TypeError(`A cost is a whole number of micro-units, got ${value}`);
  }
  return String(value);
}

/**
 * Thin typed wrappers over the agent's mutations. Each is retried on transient failures
 * only where a repeat cannot do the work twice: a submit carries an idempotency key (one
 * is generated when the caller gives none), settling again with the same cost and
 * cancelling again return the action as it is, the same `finishRun` report returns the run,
 * and `startRun` repeats safely only under a `threadId`.
 */
export function createAgentApi(send: Send) {
  return {
    async submit(input: ActionInput): Promise<AgentAction> {
      const variables = { input: { ...input, estimatedCost: toMoney(input.estimatedCost), idempotencyKey: input.idempotencyKey ?? randomUUID() } };
      return (await send<{ submitAgentAction: AgentAction }>(SUBMIT, variables)).submitAgentAction;
    },

    async settle(actionId: string, actualCost: MoneyInput): Promise<AgentAction> {
      return (await send<{ settleAgentAction: AgentAction }>(SETTLE, { id: actionId, actualCost: toMoney(actualCost) })).settleAgentAction;
    },

    async cancel(actionId: string): Promise<AgentAction> {
      return (await send<{ cancelAgentAction: AgentAction }>(CANCEL, { id: actionId })).cancelAgentAction;
    },

    async startRun(input: StartRunInput): Promise<Run> {
      return (await send<{ startRun: Run }>(START_RUN, { input }, { retry: input.threadId !== undefined })).startRun;
    },

    async finishRun(runId: string, status: "SUCCEEDED" | "FAILED", output?: unknown): Promise<Run> {
      return (await send<{ finishRun: Run }>(FINISH_RUN, { id: runId, status, output })).finishRun;
    },

    /**
     * An action of the calling agent as it stands now. Agent keys read their actions only
     * through `myAgentActions` (newest first, no lookup by id), so this pages through the
     * agent's actions of the same name decided since this one, which is few unless the
     * agent submits that action very often.
     */
    async ownAction(known: Pick<AgentAction, "id" | "action" | "decidedAt">): Promise<AgentAction> {
      let after: string | null = null;
      do {
        type Page = { myAgentActions: { edges: { node: AgentAction }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
        const page: Page = await send<Page>(MY_ACTIONS, { filter: { action: known.action, from: known.decidedAt }, first: 100, after });
        const found = page.myAgentActions.edges.find((edge) => edge.node.id === known.id);
        if (found) return found.node;
        after = page.myAgentActions.pageInfo.hasNextPage ? page.myAgentActions.pageInfo.endCursor : null;
      } while (after);
      throw new AgentApiError(`Action ${known.id} is not among this agent's actions`, "NOT_FOUND");
    },
  };
}

export type AgentApi = ReturnType<typeof createAgentApi>;
