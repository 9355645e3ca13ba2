/**
 * The shapes of the public GraphQL contract this client reads and writes (see the server's
 * `schema.graphql`). Money is an exact amount in micro-units (1 unit = 1,000,000): the
 * server always answers with a string of digits; inputs may also be a bigint or a safe integer.
 */
export type Money = string;
export type MoneyInput = string | bigint | number;

export type ActionStatus = "RESERVED" | "PENDING_APPROVAL" | "SETTLED" | "CANCELLED" | "EXPIRED" | "REJECTED" | "DENIED";
export type DecisionOutcome = "ALLOWED" | "DENIED" | "PENDING_APPROVAL";

/** Why a decision went the way it did: `code` and `message` always; the rule's or cap's numbers when they apply. */
export interface DecisionReason {
  code: string;
  message: string;
  scope?: string | null;
  per?: string | null;
  window?: string | null;
  counter?: string | null;
  limit?: Money | null;
  spent?: Money | null;
  cost?: Money | null;
  pattern?: string | null;
  policyId?: string | null;
  policyVersion?: number | null;
  ruleId?: string | null;
  capId?: string | null;
  authority?: string | null;
}

export interface AgentAction {
  id: string;
  action: string;
  resource: string | null;
  status: ActionStatus;
  decision: DecisionOutcome;
  reasons: DecisionReason[];
  estimatedCost: Money;
  actualCost: Money | null;
  /** What the action holds on its counters now. */
  reserved: Money;
  overrun: boolean;
  settledLate: boolean;
  idempotencyKey: string | null;
  runId: string | null;
  metadata: Record<string, unknown> | null;
  decidedAt: string;
  expiresAt: string | null;
  resolvedAt: string | null;
}

export interface ActionInput {
  /** The action name, e.g. `llm.completion`. */
  action: string;
  estimatedCost: MoneyInput;
  resource?: string;
  /** Up to 8 KiB of JSON, kept with the action. */
  metadata?: Record<string, unknown>;
  /** One of the agent's unfinished runs. */
  runId?: string;
  /** Generated (a random UUID) when left out; every retry of the submit reuses it. */
  idempotencyKey?: string;
}

export type RunStatus = "RUNNING" | "WAITING_APPROVAL" | "SUCCEEDED" | "FAILED" | "CANCELLED";

export interface Run {
  id: string;
  agentId: string;
  name: string;
  threadId: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  output: unknown;
}

export interface StartRunInput {
  name: string;
  instructions?: string;
  initialData?: unknown;
  metadata?: Record<string, unknown>;
  /** Your name for the run. With it, `startRun` is retried on transient failures (the server returns the first run). */
  threadId?: string;
}

export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts: number;
  /** Backoff before the second try; it doubles each time (with jitter). Default 200 ms. */
  baseMs: number;
  /** The longest backoff between two tries (a server's retry-after can ask for longer). Default 5,000 ms. */
  maxMs: number;
}
