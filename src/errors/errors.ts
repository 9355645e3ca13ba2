import { GraphQLError } from "graphql";
import { ErrorCode } from "./error-codes";

/**
 * The one error vocabulary. Each class carries a public message and a code; an internal
 * cause, when there is one, stays on the server (it is logged, never serialised).
 */
export abstract class AppError extends GraphQLError {
  abstract readonly code: ErrorCode;

  protected constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class AuthenticationError extends AppError {
  readonly code = ErrorCode.UNAUTHENTICATED;
  constructor(message = "Not authenticated") {
    super(message, ErrorCode.UNAUTHENTICATED);
  }
}

export class ForbiddenError extends AppError {
  readonly code = ErrorCode.FORBIDDEN;
  constructor(message = "Not allowed", extensions: Record<string, unknown> = {}) {
    super(message, ErrorCode.FORBIDDEN, extensions);
  }
}

/** Bad input: names the offending field so a form can point at it. */
export class UserInputError extends AppError {
  readonly code = ErrorCode.BAD_USER_INPUT;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, ErrorCode.BAD_USER_INPUT, { field });
  }
}

export class NotFoundError extends AppError {
  readonly code = ErrorCode.NOT_FOUND;
  constructor(message = "Not found") {
    super(message, ErrorCode.NOT_FOUND);
  }
}

export class ConflictError extends AppError {
  readonly code = ErrorCode.CONFLICT;
  constructor(message: string, field?: string) {
    super(message, ErrorCode.CONFLICT, field ? { field } : {});
  }
}

export class RateLimitedError extends AppError {
  readonly code = ErrorCode.RATE_LIMITED;
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests; retry in ${retryAfterSeconds} s`, ErrorCode.RATE_LIMITED, {
      retryAfter: retryAfterSeconds,
    });
  }
}

/** A backing service (database, Redis, mail) cannot be reached: the request fails closed. */
export class ServiceUnavailableError extends AppError {
  readonly code = ErrorCode.SERVICE_UNAVAILABLE;
  constructor(message = "Service temporarily unavailable", options?: { cause?: unknown }) {
    super(message, ErrorCode.SERVICE_UNAVAILABLE);
    if (options?.cause !== undefined) Object.defineProperty(this, "internalCause", { value: options.cause });
  }
}

/**
 * A governance decision said no. The extensions carry the decision id (the action's id: its
 * recorded decision can be read and replayed) and every reason, each naming the exact rule
 * or cap that decided.
 */
export class PolicyDeniedError extends AppError {
  readonly code = ErrorCode.POLICY_DENIED;
  constructor(
    message: string,
    readonly decisionId: string,
    readonly reasons: readonly { code: string; message: string }[],
  ) {
    super(message, ErrorCode.POLICY_DENIED, { decisionId, reasons });
  }
}

/**
 * A settle beyond the bound the policy chain sets (the policy model in README): a
 * POLICY_DENIED whose extensions also name the bound (CEILING: the rules' ceiling on the
 * actual cost; CAP: a cap without the room), what it allows and what was asked (money as
 * decimal strings). Nothing was charged; a reservation the action held stays held.
 */
export class SettleRefusedError extends AppError {
  readonly code = ErrorCode.POLICY_DENIED;
  constructor(message: string, readonly decisionId: string, refusal: { bound: string; allowed: bigint; requested: bigint; reasons: readonly { code: string; message: string }[] }) {
    super(message, ErrorCode.POLICY_DENIED, {
      decisionId,
      reasons: refusal.reasons,
      bound: refusal.bound,
      allowed: refusal.allowed.toString(),
      requested: refusal.requested.toString(),
    });
  }
}
