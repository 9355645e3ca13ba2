import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logging/logger";
import type { RequestMeta } from "../request-meta";
import { callerOf, type Caller, type TrustFn } from "./caller";
import type { Metrics } from "./metrics";

declare module "express-serve-static-core" {
  interface Request {
    meta: RequestMeta;
    caller: Caller;
  }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** Starts tracking one request; returns who called (TRUST_PROXY applied) and its meta. */
export type RequestTracker = (req: IncomingMessage, res: ServerResponse, path: string) => { caller: Caller; meta: RequestMeta };

/**
 * Gives each request an id (the caller's `x-request-id` when well-formed, else a new one),
 * echoes it in the response, and when the response is sent counts it in the duration metric
 * and writes the access log: one `info` line with method, path, status, duration, request id
 * and, for GraphQL, the operation (its root field, never the client's free-form name) and
 * result. Headers, bodies, variables and query strings are never logged.
 */
export function createRequestTracker(logger: Logger, metrics: Pick<Metrics, "requestFinished" | "labelOf">, trust: TrustFn): RequestTracker {
  // Every field of the access line is one of ours (no user-supplied object is logged), so
  // it skips the redaction pass the general logger runs on each line.
  const access = logger.child({}, { redact: [] });
  return (req, res, path) => {
    const caller = callerOf(req, trust);
    const incoming = req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && CLIENT_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const userAgent = req.headers["user-agent"];
    const meta: RequestMeta = { requestId, ip: caller.ip(), userAgent: userAgent ? userAgent.slice(0, 512) : null };
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requestFinished(method, path, res.statusCode, seconds);
      access.info({ requestId, method, path, status: res.statusCode, ms: Math.round(seconds * 10_000) / 10, ...metrics.labelOf(meta) }, "request");
    });
    return { caller, meta };
  };
}

/** The tracker as Express middleware: sets `req.caller` and `req.meta` for the routes after it. */
export function requestTracking(track: RequestTracker) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Read now: a router mounted at /graphql rewrites req.url (and so req.path) on the way.
    const { caller, meta } = track(req, res, req.path);
    req.caller = caller;
    req.meta = meta;
    next();
  };
}
