/**
 * How errors are written to the log. A failed statement must never put the user's values
 * in the log: drizzle's message reads "Failed query: <sql>\nparams: <values>", the driver's
 * error carries them as `params` / `parameters` and in `detail` ("Key (email)=(…)"), and a
 * PostgreSQL data exception quotes the value it refused (`invalid input syntax for type
 * uuid: "…"`). What is kept: the SQL text (placeholders only), the SQLSTATE and the names
 * of the constraint, table and column, the stack frames, and the same for each cause.
 */

/** Fields of a driver error that name things, never values. */
const NAMING_FIELDS = [
  "code",
  "severity",
  "routine",
  "constraint",
  "constraint_name",
  "table",
  "table_name",
  "column",
  "column_name",
  "schema",
  "schema_name",
] as const;

const MAX_CAUSES = 5;
const PARAMS_TAIL = /\nparams: [\s\S]*$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  query?: string;
  path?: readonly (string | number)[];
  cause?: SerializedError | string;
  [field: string]: unknown;
}

/** The message without values: drizzle's params cut off; quoted values of a data exception (SQLSTATE 22…) masked. */
export function scrubErrorMessage(message: string, sqlState?: unknown): string {
  const withoutParams = message.replace(PARAMS_TAIL, "");
  if (typeof sqlState !== "string" || !sqlState.startsWith("22")) return withoutParams;
  return withoutParams.replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"').replace(/\b0x[0-9a-f]+(?: 0x[0-9a-f]+)*/gi, "0x[redacted]");
}

function frames(stack: unknown): string[] {
  return typeof stack === "string" ? stack.split("\n").filter((line) => /^\s+at /.test(line)) : [];
}

function serialize(error: Error, depth: number): SerializedError {
  const fields = error as unknown as Record<string, unknown>;
  const code = typeof fields.code === "string" && SQLSTATE.test(fields.code) ? fields.code : undefined;
  const type = error.constructor?.name ?? "Error";
  const message = scrubErrorMessage(String(error.message), code);
  const out: SerializedError = { type, message, stack: [`${type}: ${message}`, ...frames(error.stack)].join("\n") };
  for (const name of NAMING_FIELDS) {
    const value = fields[name];
    if (typeof value === "string" || typeof value === "number") out[name] = value;
  }
  if (typeof fields.query === "string") out.query = fields.query.replace(PARAMS_TAIL, "");
  if (Array.isArray(fields.path)) out.path = fields.path as (string | number)[];
  const cause = fields.cause;
  if (cause instanceof Error) {
    out.cause = depth < MAX_CAUSES ? serialize(cause, depth + 1) : `${cause.constructor?.name ?? "Error"} (causes cut)`;
  }
  return out;
}

/** pino's `err` serializer: the error's type, scrubbed message and stack, naming fields, and its causes. */
export function serializeError(value: unknown): unknown {
  return value instanceof Error ? serialize(value, 0) : value;
}
