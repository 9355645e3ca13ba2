/**
 * Outages of the backing services, told apart from bugs. A request that fails because
 * PostgreSQL or Redis cannot be reached, or does not answer in time, is answered
 * SERVICE_UNAVAILABLE on every path (format-error.ts applies `backingServiceOutage` to
 * whatever a resolver threw); anything else stays an internal error. `/readyz` uses the same
 * classification to say why a dependency is not ready.
 */
export type BackingService = "database" | "redis";
/** `timeout`: connected but no answer in time; `unreachable`: no usable connection. */
export type OutageKind = "timeout" | "unreachable";

export interface Outage {
  service: BackingService;
  kind: OutageKind;
}

/** Thrown by the store (and usable by any adapter) when its service is out: already typed. */
export class BackingServiceError extends Error {
  constructor(
    readonly service: BackingService,
    readonly kind: OutageKind,
    options?: { cause?: unknown },
  ) {
    super(`${service} ${kind}`, options);
    this.name = "BackingServiceError";
  }
}

/** Socket-level codes (Node) and postgres.js's own connection codes. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "CONNECT_TIMEOUT"]);

/**
 * SQLSTATEs that say the database, not the statement, is the problem: class 08 (connection
 * exception), 57P01-57P03 (admin / crash shutdown, cannot connect now), 53300 (too many
 * connections), 3D000 and class 28 (only raised while connecting: the database is gone or
 * the credentials no longer work), and any error of severity FATAL or PANIC, which ends the
 * connection by definition (e.g. 55000 "database is not currently accepting connections").
 * 57014 (statement timeout, idle-in-transaction timeout) and 55P03 (lock timeout) are
 * timeouts.
 */
function sqlStateOutage(code: string, severity: unknown): OutageKind | undefined {
  if (code === "57014" || code === "55P03" || code === "25P03") return "timeout";
  if (code.startsWith("08") || code.startsWith("28")) return "unreachable";
  if (["57P01", "57P02", "57P03", "53300", "3D000"].includes(code)) return "unreachable";
  if (severity === "FATAL" || severity === "PANIC") return "unreachable";
  return undefined;
}

/**
 * The outage behind `error`, following `cause` links (drizzle wraps driver errors in
 * DrizzleQueryError), or undefined when it is not one. Errors of PostgreSQL's driver and of
 * the sockets under it are attributed to the database: Redis failures reach callers already
 * typed as `BackingServiceError` by the store.
 */
export function backingServiceOutage(error: unknown): Outage | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof BackingServiceError) return { service: current.service, kind: current.kind };
    // `severity` is PostgreSQL's non-localised field (V); `severity_local` may be translated.
    const { code, severity } = current as { code?: unknown; severity?: unknown };
    if (typeof code === "string") {
      if (UNREACHABLE_CODES.has(code)) return { service: "database", kind: "unreachable" };
      if (TIMEOUT_CODES.has(code)) return { service: "database", kind: "timeout" };
      if (/^[0-9A-Z]{5}$/.test(code)) {
        const kind = sqlStateOutage(code, severity);
        if (kind) return { service: "database", kind };
      }
    }
    current = current.cause;
  }
  return undefined;
}
