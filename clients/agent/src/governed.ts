import type { AgentApi } from "./agent-api";
import { AgentApiError, ApprovalRejectedError, ApprovalTimeoutError, SettleFailedError } from "./errors";
import { sleep } from "./transport";
import type { ActionInput, AgentAction, MoneyInput } from "./types";

export interface GovernedInput extends ActionInput {
  /** PENDING_APPROVAL: wait for an approver (default), or return at once without running the work. */
  waitForApproval?: boolean;
  /** How long to wait for an approver; the client's `approvalTimeoutMs` by default. */
  approvalTimeoutMs?: number;
}

/** What the work reports: what it actually cost (settled in place of the estimate) and its result. */
export interface WorkOutcome<T> {
  actualCost: MoneyInput;
  result: T;
}

/** The work, given the action it runs under (RESERVED: its estimate is held). */
export type Work<T> = (action: AgentAction) => Promise<WorkOutcome<T>>;

export type GovernedResult<T> =
  | { status: "SETTLED"; actionId: string; result: T; settled: AgentAction }
  | { status: "PENDING_APPROVAL"; actionId: string; action: AgentAction };

const REFUSED = new Set(["REJECTED", "DENIED", "EXPIRED", "CANCELLED"]);

/**
 * `governed(input, work)`: the work runs at most once, and only under a reservation.
 *
 * 1. Submit under one idempotency key (the caller's, or a fresh UUID) that every retry
 *    reuses, so a retry after a lost answer gets the first decision and is charged once.
 *    DENIED is thrown as `PolicyDeniedError`.
 * 2. PENDING_APPROVAL: return it (`waitForApproval: false`), or poll the action until it is
 *    RESERVED, refused (`ApprovalRejectedError`) or the wait ends (`ApprovalTimeoutError`;
 *    the action stays held for a person).
 * 3. Run the work. If it throws, cancel the reservation, then rethrow the work's error.
 * 4. Settle the actual cost; if that fails the work's result is in `SettleFailedError`.
 */
export function createGoverned(api: AgentApi, defaults: { approvalTimeoutMs: number; pollMs: number }) {
  async function untilDecided(held: AgentAction, timeoutMs: number): Promise<AgentAction> {
    const started = Date.now();
    for (;;) {
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new ApprovalTimeoutError(held.id, Date.now() - started);
      await sleep(Math.min(defaults.pollMs, left));
      const current = await api.ownAction(held);
      if (current.status === "RESERVED") return current;
      if (REFUSED.has(current.status)) {
        throw new ApprovalRejectedError(current.id, current.status as ApprovalRejectedError["status"], current.reasons);
      }
    }
  }

  return async function governed<T>(input: GovernedInput, work: Work<T>): Promise<GovernedResult<T>> {
    const { waitForApproval = true, approvalTimeoutMs = defaults.approvalTimeoutMs, ...actionInput } = input;
    // api.submit fixes the idempotency key (the caller's or a new UUID) before its first try.
    let action = await api.submit(actionInput);
    if (action.status === "PENDING_APPROVAL") {
      if (!waitForApproval) return { status: "PENDING_APPROVAL", actionId: action.id, action };
      action = await untilDecided(action, approvalTimeoutMs);
    }
    if (action.status !== "RESERVED") {
      // Only when the caller reuses a key whose action already ended: its work ran (or never will).
      throw new AgentApiError(`Action ${action.id} is ${action.status}: its idempotency key was already used`, "CONFLICT", {
        field: "idempotencyKey",
        status: action.status,
      });
    }

    let outcome: WorkOutcome<T>;
    try {
      outcome = await work(action);
    } catch (error) {
      // The work's error is what the caller needs; a cancel that cannot get through leaves
      // the reservation to the server's reservation TTL, which releases it.
      await api.cancel(action.id).catch(() => undefined);
      throw error;
    }
    try {
      const settled = await api.settle(action.id, outcome.actualCost);
      return { status: "SETTLED", actionId: action.id, result: outcome.result, settled };
    } catch (cause) {
      throw new SettleFailedError(action.id, outcome.result, cause);
    }
  };
}
