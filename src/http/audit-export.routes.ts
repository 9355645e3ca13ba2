import { Router, type Request, type Response } from "express";
import { parseAuditFilter, type AuditFilter, type AuditFilterInput } from "../audit/audit-filter";
import { csvHeader, csvLine, ndjsonLine, toExportRecord } from "../audit/audit-export-format";
import type { AuditEventRow } from "../audit/audit-query";
import { createAuditService, type AuditExportFormat } from "../audit/audit.service";
import type { Principal } from "../auth/principal";
import type { PrincipalResolver } from "../auth/principal-resolver";
import type { Db } from "../db/database";
import { ErrorCode } from "../errors/error-codes";
import { AppError, UserInputError } from "../errors/errors";
import { bearerToken } from "../graphql/request-auth";
import type { Logger } from "../logging/logger";

const FORMATS = {
  ndjson: { contentType: "application/x-ndjson", extension: "ndjson" },
  csv: { contentType: "text/csv; charset=utf-8", extension: "csv" },
} as const satisfies Record<AuditExportFormat, unknown>;

/** Typed errors from the service, as HTTP statuses; anything else is a masked 500. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

const TEXT_PARAMS = ["actorId", "action", "targetType", "targetId"] as const;
const KNOWN_PARAMS = new Set<string>(["format", "actorType", "outcome", "from", "to", ...TEXT_PARAMS]);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function sendError(res: Response, error: HttpError): void {
  const extensions = { code: error.code, ...(error.field ? { field: error.field } : {}) };
  if (error.status === 401) res.setHeader("www-authenticate", 'Bearer realm="audit"');
  res.status(error.status).json({ errors: [{ message: error.message, extensions }] });
}

/** Query parameters to a checked filter; the same names and rules as the GraphQL `AuditFilter`. */
export function parseExportQuery(query: Request["query"]): { format: AuditExportFormat; filter: AuditFilter } {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!KNOWN_PARAMS.has(name)) throw new UserInputError("Unknown query parameter", name);
    if (typeof value !== "string") throw new UserInputError("Give this parameter once", name);
    params[name] = value;
  }
  const format = (params.format ?? "ndjson").toLowerCase();
  if (format !== "ndjson" && format !== "csv") throw new UserInputError("format is ndjson or csv", "format");
  const date = (name: "from" | "to") => {
    const value = params[name];
    if (value === undefined) return undefined;
    if (!ISO_DATE_TIME.test(value)) throw new UserInputError(`${name} must be an ISO 8601 date-time with offset`, name);
    return new Date(value);
  };
  const input: AuditFilterInput = {
    actorType: params.actorType?.toLowerCase() as AuditFilterInput["actorType"],
    outcome: params.outcome?.toLowerCase() as AuditFilterInput["outcome"],
    from: date("from"),
    to: date("to"),
  };
  for (const name of TEXT_PARAMS) input[name] = params[name];
  return { format, filter: parseAuditFilter(input, "") };
}

/** Resolves when the response can take more, or is gone (an error is always followed by close). */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes, and waits for the socket to drain when its buffer is full; false once the client left. */
async function write(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await drainedOrClosed(res);
  return !res.destroyed;
}

/** Writes every page in the format; false when the client went away first. */
async function streamRows(res: Response, format: AuditExportFormat, pages: AsyncIterable<AuditEventRow[]>): Promise<boolean> {
  const line = format === "csv" ? csvLine : ndjsonLine;
  if (format === "csv" && !(await write(res, csvHeader()))) return false;
  for await (const rows of pages) {
    if (!(await write(res, rows.map((row) => line(toExportRecord(row))).join("")))) return false;
  }
  return true;
}

/**
 * `GET /audit/export?format=ndjson|csv&actorId=…&action=auth.*&from=…` — the audit rows
 * matching the filter, oldest first, streamed page by page with backpressure. Bearer access
 * token required; `audit:export` required. The export is itself audited before the first
 * byte is sent, and covers the rows up to that moment.
 */
export function auditExportRouter(deps: { principals: PrincipalResolver; db: Db; logger: Logger }): Router {
  const audit = createAuditService({ db: deps.db });
  const router = Router();

  async function authenticate(req: Request): Promise<Principal> {
    const token = bearerToken(req.get("authorization"));
    if (!token) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, "Not authenticated");
    const result = await deps.principals.resolve(token).catch((cause: unknown) => {
      deps.logger.warn({ requestId: req.meta.requestId, err: cause }, "cannot resolve principal for audit export");
      throw new HttpError(503, ErrorCode.SERVICE_UNAVAILABLE, "Cannot verify credentials right now");
    });
    if (!result.ok) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, "Invalid or expired access token");
    if (result.principal.restriction) throw new HttpError(403, ErrorCode.FORBIDDEN, "This session is restricted");
    return result.principal;
  }

  router.get("/audit/export", async (req, res) => {
    res.setHeader("cache-control", "no-store");
    let started = false;
    try {
      const principal = await authenticate(req);
      const { format, filter } = parseExportQuery(req.query);
      const { upToSeq, pages } = await audit.beginExport(principal, req.meta, { filter, format });
      const { contentType, extension } = FORMATS[format];
      res.status(200);
      res.setHeader("content-type", contentType);
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("content-disposition", `attachment; filename="audit-${upToSeq}.${extension}"`);
      started = true;
      if (await streamRows(res, format, pages)) res.end();
    } catch (error) {
      if (!started) return sendFailure(res, error, req.meta.requestId);
      // Mid-stream: cut the connection so the client cannot take a partial file for a whole one.
      deps.logger.error({ requestId: req.meta.requestId, err: error }, "audit export failed mid-stream");
      res.destroy();
    }
  });

  function sendFailure(res: Response, error: unknown, requestId: string): void {
    if (error instanceof HttpError) return sendError(res, error);
    const status = error instanceof AppError ? STATUS_OF[error.code] : undefined;
    if (error instanceof AppError && status) {
      const field = error instanceof UserInputError ? error.field : undefined;
      return sendError(res, new HttpError(status, error.code, error.message, field));
    }
    deps.logger.error({ requestId, err: error }, "audit export failed");
    sendError(res, new HttpError(500, ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error"));
  }

  return router;
}
