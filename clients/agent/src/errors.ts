import type { DecisionReason } from "./types";

/** What a GraphQL error carries besides its message: `code` always, then code-specific fields. */
export type ErrorExtensions = Record<string, unknown> & { code?: string };

/**
 * Any refusal or failure the server (or the way to it) gave. `code` is the server's
 * `extensions.code` (BAD_USER_INPUT, CONFLICT, NOT_FOUND, ...), or `NETWORK_ERROR` /
 * `HTTP_<status>` when no GraphQL answer came back. `transient` errors were retried until
 * the attempts ran out; the others are never retried (the same request would be refused again).
 */
export class AgentApiError extends Error {
  override readonly name: string = "AgentApiError";
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: ErrorExtensions = {},
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The input field a BAD_USER_INPUT or CONFLICT names, when it names one. */
  get field(): string | undefined {
    return typeof this.extensions.field === "string" ? this.extensions.field : undefined;
  }
}

/**
 * POLICY_DENIED: the policy engine refused the action (or a settle beyond its bound).
 * `decisionId` is the action's id: its owner can read and replay the decision; `reasons`
 * name the exact rules or caps, with their numbers.
 */
export class PolicyDeniedError extends AgentApiError {
  override readonly name: string = "PolicyDeniedError";
  readonly decisionId: string;
  readonly reasons: DecisionReason[];
  constructor(message: string, extensions: ErrorExtensions) {
    super(message, "POLICY_DENIED", extensions);
    this.decisionId = String(extensions.decisionId ?? "");
    this.reasons = Array.isArray(extensions.reasons) ? (extensions.reasons as DecisionReason[]) : [];
  }
}

/** A held action was not answered in time. It stays held for a person; nothing ran or was charged. */
export class ApprovalTimeoutError extends Error {
  override readonly name: string = "ApprovalTimeoutError";
  constructor(
    readonly actionId: string,
    readonly waitedMs: number,
  ) {
    super(`Action ${actionId} is still waiting for approval after ${waitedMs} ms`);
  }
}

/**
 * A held action ended without being allowed: an approver rejected it (REJECTED), the
 * re-decision at approval denied it (DENIED, with its reasons), or nobody answered before
 * the server's approval TTL (EXPIRED). The work did not run; nothing was charged.
 */
export class ApprovalRejectedError extends Error {
  override readonly name: string = "ApprovalRejectedError";
  constructor(
    readonly actionId: string,
    readonly status: "REJECTED" | "DENIED" | "EXPIRED",
    readonly reasons: DecisionReason[] = [],
  ) {
    super(`Action ${actionId} was not approved: ${status}`);
  }
}

/**
 * The work ran and returned, but its cost could not be settled (refused beyond the policy's
 * overrun bound, or the server stayed unreachable). `result` is the work's result, so it is
 * not lost; the reservation stays held until the agent settles or cancels it (`settle`,
 * `cancel`) or the server's reservation TTL releases it. `cause` says why.
 */
export class SettleFailedError<T = unknown> extends Error {
  override readonly name: string = "SettleFailedError";
  constructor(
    readonly actionId: string,
    readonly result: T,
    cause: unknown,
  ) {
    super(`Action ${actionId}: the work ran but its cost was not settled`, { cause });
  }
}
