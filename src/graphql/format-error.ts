import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { backingServiceOutage } from "../errors/backing-service";
import { AppError, ServiceUnavailableError } from "../errors/errors";
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
 * input.password"). The value may be a password typed into the wrong field, and may itself
 * contain any punctuation, so the message is rebuilt from the parts that cannot hold it:
 * the variable name, the path (graphql-js escapes quotes inside values, so the last
 * ` at "path"; ` is the real one) and the reason up to where it would quote the value.
 */
export function scrubValues(message: string): string {
  const variable = /^Variable "\$(\w+)" got invalid value /.exec(message);
  if (variable) {
    const located = /^[\s\S]* at "([\w.[\]]+)"; ([^:]*)/.exec(message);
    if (located) return `Variable "$${variable[1]}" got invalid value at "${located[1]}"; ${located[2]}`;
    // At the root, keep only a reason made of field and type names, anchored at the end.
    const reason = /; (Field "\w+" (?:of required type "[\w![\]]+" was not provided|is not defined by type "\w+")\.)$/.exec(message);
    return `Variable "$${variable[1]}" got invalid value${reason ? `; ${reason[1]}` : ""}`;
  }
  return message
    .replace(/(cannot represent[^:]*?value):[\s\S]*$/, "$1")
    .replace(/(Expected value of type "[^"]+"), found[\s\S]*$/, "$1");
}

/** graphql-js gives up coercing variables after 50 errors with this error, which names no variable. */
const VARIABLE_ERROR_LIMIT = "Too many errors processing variables, error limit reached. Execution aborted.";

/**
 * The code of a refusal of the request itself that Apollo or graphql-js raise without one
 * (a persisted-query hash mismatch or version, the variable error limit): without it the
 * client's own mistake would read as INTERNAL_SERVER_ERROR.
 */
function uncodedRequestErrorCode(error: unknown): string | undefined {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined || error.originalError) return undefined;
  if (error.message === VARIABLE_ERROR_LIMIT) return "BAD_USER_INPUT";
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500 ? "BAD_REQUEST" : undefined;
}

/** A request error code for a client's mistake, or undefined. */
function requestErrorCode(formattedCode: unknown, error: unknown): string | undefined {
  if (typeof formattedCode === "string" && REQUEST_ERROR_CODES.has(formattedCode)) return formattedCode;
  return uncodedRequestErrorCode(error);
}

export function isExpectedError(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (original instanceof AppError || backingServiceOutage(original)) return true;
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return requestErrorCode(code, error) !== undefined;
}

/**
 * What a client may see of an error: our typed errors as they are, an outage of the database
 * or Redis from any path as SERVICE_UNAVAILABLE, request errors with values scrubbed,
 * everything else masked (and logged with the request id elsewhere).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    return { message: original.message, ...where, extensions: { ...original.extensions } };
  }
  if (backingServiceOutage(original)) {
    const unavailable = new ServiceUnavailableError();
    return { message: unavailable.message, ...where, extensions: { ...unavailable.extensions } };
  }
  const code = requestErrorCode(formatted.extensions?.code, error);
  if (code !== undefined) {
    return { message: scrubValues(formatted.message), ...where, extensions: { code } };
  }
  return { message: "Internal server error", ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}
