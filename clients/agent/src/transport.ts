import { AgentApiError, PolicyDeniedError, type ErrorExtensions } from "./errors";
import type { RetryOptions } from "./types";

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseMs: 200, maxMs: 5_000 };

export interface TransportOptions {
  endpoint: string;
  apiKey: string;
  fetch: typeof fetch;
  retry: RetryOptions;
  /** One try gives up after this long (and counts as a network failure). */
  requestTimeoutMs: number;
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: ErrorExtensions }[];
}

/** One GraphQL request over HTTP: sends, retries transient failures, returns `data` or throws a typed error. */
export type Send = <T>(query: string, variables: Record<string, unknown>, options?: { retry?: boolean }) => Promise<T>;

/**
 * Transient, and so retried: no answer at all (connection refused or reset, DNS, the try's
 * timeout), an HTTP 5xx without a GraphQL answer (a proxy's 502/503), `SERVICE_UNAVAILABLE`
 * (the server fails closed while its database or Redis is out; nothing was written) and
 * `RATE_LIMITED` (after the `retryAfter` seconds the server names). Everything else the
 * server says is final and thrown at once.
 *
 * Retrying is safe only for requests the server treats as idempotent; callers turn it off
 * for the others (`retry: false`).
 */
export function createTransport(options: TransportOptions): Send {
  return async function send<T>(query: string, variables: Record<string, unknown>, { retry = true } = {}): Promise<T> {
    const attempts = retry ? Math.max(1, options.retry.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      const outcome = await tryOnce(options, query, variables);
      if (outcome.ok) return outcome.data as T;
      if (!outcome.error.transient || attempt >= attempts) throw outcome.error;
      await sleep(Math.max(backoff(options.retry, attempt), outcome.waitMs ?? 0));
    }
  };
}

type Outcome = { ok: true; data: unknown } | { ok: false; error: AgentApiError; waitMs?: number };

async function tryOnce(options: TransportOptions, query: string, variables: Record<string, unknown>): Promise<Outcome> {
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(options.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(options.requestTimeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    return { ok: false, error: new AgentApiError("The server could not be reached", "NETWORK_ERROR", {}, true, { cause }) };
  }
  const answer = parse(text);
  if (!answer) {
    const transient = response.status >= 500;
    return { ok: false, error: new AgentApiError(`HTTP ${response.status} without a GraphQL answer`, `HTTP_${response.status}`, {}, transient) };
  }
  const first = answer.errors?.[0];
  if (first) return refusal(first, response.headers);
  if (!answer.data) return { ok: false, error: new AgentApiError("A GraphQL answer without data", "BAD_RESPONSE") };
  return { ok: true, data: answer.data };
}

function refusal(error: NonNullable<GraphQLAnswer["errors"]>[number], headers: Headers): Outcome {
  const extensions = error.extensions ?? {};
  const code = typeof extensions.code === "string" ? extensions.code : "UNKNOWN";
  const message = error.message ?? code;
  if (code === "POLICY_DENIED") return { ok: false, error: new PolicyDeniedError(message, extensions) };
  if (code === "SERVICE_UNAVAILABLE") return { ok: false, error: new AgentApiError(message, code, extensions, true) };
  if (code === "RATE_LIMITED") {
    return { ok: false, error: new AgentApiError(message, code, extensions, true), waitMs: retryAfterMs(extensions, headers) };
  }
  return { ok: false, error: new AgentApiError(message, code, extensions) };
}

function parse(text: string): GraphQLAnswer | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && ("data" in value || "errors" in value)) return value as GraphQLAnswer;
  } catch {
    // not JSON: a proxy's error page, a cut body
  }
  return undefined;
}

/** The server names the wait in `extensions.retryAfter` (seconds); an HTTP `Retry-After` header is read too. */
function retryAfterMs(extensions: ErrorExtensions, headers: Headers): number | undefined {
  const seconds = Number(extensions.retryAfter ?? headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Exponential with equal jitter: between half and all of `baseMs * 2^(attempt-1)`, capped at `maxMs`. */
export function backoff(retry: RetryOptions, attempt: number): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
