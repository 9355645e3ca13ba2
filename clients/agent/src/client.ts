import { createAgentApi } from "./agent-api";
import { createGoverned } from "./governed";
import { createTransport, DEFAULT_RETRY } from "./transport";
import type { RetryOptions } from "./types";

export interface AgentClientOptions {
  /** The server: its base URL (`http://localhost:4000`) or its GraphQL endpoint (`…/graphql`). */
  url: string;
  /** The agent's API key, `aik_<id>.<secret>`. */
  apiKey: string;
  /** Defaults to the global `fetch` (Node >= 20). */
  fetch?: typeof fetch;
  retry?: Partial<RetryOptions>;
  /** How long `governed` waits for an approver by default. Default 5 minutes. */
  approvalTimeoutMs?: number;
  /** How often a held action is read while waiting. Default 2 s. */
  pollMs?: number;
  /** One HTTP try gives up after this long, and is retried like a lost connection. Default 30 s. */
  requestTimeoutMs?: number;
}

/** The GraphQL endpoint for a base URL, or the URL itself when it already names `/graphql`. */
function endpointOf(url: string): string {
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith("/graphql")) parsed.pathname = `${parsed.pathname.replace(/\/$/, "")}/graphql`;
  return parsed.toString();
}

/** A client for one agent (one API key). Creating it sends nothing. */
export function createAgentClient(options: AgentClientOptions) {
  const send = createTransport({
    endpoint: endpointOf(options.url),
    apiKey: options.apiKey,
    fetch: options.fetch ?? globalThis.fetch,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
  });
  const api = createAgentApi(send);
  const governed = createGoverned(api, { approvalTimeoutMs: options.approvalTimeoutMs ?? 300_000, pollMs: options.pollMs ?? 2_000 });
  return {
    governed,
    submit: api.submit,
    settle: api.settle,
    cancel: api.cancel,
    startRun: api.startRun,
    finishRun: api.finishRun,
  };
}

export type AgentClient = ReturnType<typeof createAgentClient>;
