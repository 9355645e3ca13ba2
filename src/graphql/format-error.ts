import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { AppError } from "../errors/errors";
import { ErrorCode } from "../errors/error-codes";

/** Codes that describe the client's own request (parse, validation, variables): safe to show. */
const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/**
 * graphql-js quotes offending values in its messages ("got invalid value 12345 at
 * input.password"). The value may be a password typed into the wrong field: cut it out.
 */
export function scrubValues(message: string): string {
  return message
    .replace(/got invalid value [\s\S]*?(?=;| at "|$)/g, "got invalid value")
    .replace(/(cannot represent[^:]*?value): [\s\S]*$/g, "$1")
    .replace(/(Expected value of type "[^"]+"), found [\s\S]*?(;|$)/g, "$1$2")
    .replace(/(Expected type "[^"]+"), found [\s\S]*?(\.|;|$)/g, "$1$2");
}

export function isExpectedError(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) return true;
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return typeof code === "string" && REQUEST_ERROR_CODES.has(code);
}

/**
 * What a client may see of an error: our typed errors as they are, request errors with
 * values scrubbed, everything else masked (and logged with the request id elsewhere).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    return { message: original.message, ...where, extensions: { ...original.extensions } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
    return { message: scrubValues(formatted.message), ...where, extensions: { code } };
  }
  return { message: "Internal server error", ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}
