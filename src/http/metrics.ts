import crypto from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

/** Prometheus metrics, in a registry of this app's own (several apps may share a process in tests). */
export interface Metrics {
  registry: Registry;
  middleware(req: Request, res: Response, next: NextFunction): void;
  authEvents: Counter<"event">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const authEvents = new Counter({
    name: "auth_events_total",
    help: "Sign-ins, refreshes and their failures",
    labelNames: ["event"],
    registers: [registry],
  });
  const KNOWN_ROUTES = new Set(["/graphql", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"]);
  return {
    registry,
    authEvents,
    middleware(req, res, next) {
      const end = duration.startTimer();
      res.on("finish", () => {
        const route = KNOWN_ROUTES.has(req.path) ? req.path : "other";
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
  };
}

/**
 * GET /metrics. With a token configured, only `Authorization: Bearer <token>` gets the
 * figures (compared in constant time); anyone else gets 401 and nothing about the process.
 */
export function metricsRoute(metrics: Metrics, token: string | undefined) {
  const expected = token ? crypto.createHash("sha256").update(token).digest() : undefined;
  return async (req: Request, res: Response): Promise<void> => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
      const digest = crypto.createHash("sha256").update(presented).digest();
      if (!crypto.timingSafeEqual(digest, expected)) {
        res.status(401).setHeader("www-authenticate", 'Bearer realm="metrics"').json({ error: "metrics need a bearer token" });
        return;
      }
    }
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}
