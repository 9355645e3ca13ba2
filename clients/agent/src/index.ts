/** The agent SDK: governed actions against the Agent Identity server, over its public GraphQL API. */
export { createAgentClient, type AgentClient, type AgentClientOptions } from "./client";
export type { GovernedInput, GovernedResult, Work, WorkOutcome } from "./governed";
export { AgentApiError, ApprovalRejectedError, ApprovalTimeoutError, PolicyDeniedError, SettleFailedError, type ErrorExtensions } from "./errors";
export type * from "./types";
