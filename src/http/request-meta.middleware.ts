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
 * echoes it in the response, and logs one line when the response is sent. Headers and
 * bodies are never logged.
 */
export function requestMetaMiddleware(logger: Logger) {
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
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.debug({ requestId, method: req.method, path: req.path, status: res.statusCode, ms }, "request");
    });
    next();
  };
}
