import crypto from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logging/logger";
import type { RequestMeta } from "../request-meta";

declare module "express-serve-static-core" {
  interface Request {
    meta: RequestMeta;
  }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Gives each request an id (the caller's `x-request-id` when well-formed, else a new one),
 * echoes it in the response, and writes the access log: one `info` line when the response is
 * sent, with method, path, status, duration, request id and, for GraphQL, the operation (its
 * root field, never the client's free-form name) and result. Headers, bodies, variables and
 * query strings are never logged.
 */
export function requestMetaMiddleware(logger: Logger, labelOf: (meta: RequestMeta) => { operation: string; result: string } | undefined = () => undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get("x-request-id");
    const requestId = incoming && CLIENT_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    req.meta = {
      requestId,
      ip: req.ip ?? null,
      userAgent: req.get("user-agent")?.slice(0, 512) ?? null,
    };
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    // Read now: a router mounted at /graphql rewrites req.url (and so req.path) on the way.
    const path = req.path;
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const label = labelOf(req.meta);
      logger.info({ requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10, ...label }, "request");
    });
    next();
  };
}
