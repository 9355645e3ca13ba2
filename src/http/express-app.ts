import type { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import cookieParser from "cookie-parser";
import cors from "cors";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { Config } from "../config/config";
import type { GraphQLContext } from "../graphql/context";
import { bearerToken, RequestAuth } from "../graphql/request-auth";
import type { AgentPrincipalResolver } from "../agents/agent-principal-resolver";
import type { PrincipalResolver } from "../auth/principal-resolver";
import type { Db } from "../db/database";
import { auditExportRouter } from "./audit-export.routes";
import type { SigningKeys } from "../auth/signing-keys";
import type { Logger } from "../logging/logger";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { Services } from "../services";
import { healthRoutes, type Probe } from "./health.routes";
import { metricsRoute, type Metrics } from "./metrics";
import { ideAssetsRouter } from "./playground";
import { inlineScriptHashes, securityHeaders } from "./security-headers";
import { createRefreshCookieJar } from "./refresh-cookie";
import { createRefreshCookieWarnings, refreshCookieProblem } from "./refresh-cookie-check";
import { requestMetaMiddleware } from "./request-meta.middleware";
import { WEB_APP_PATH, webAppRouter } from "./web-app.routes";

export interface HttpDeps {
  db: Db;
  agentPrincipals: AgentPrincipalResolver;
  rateLimiter: RateLimiter;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  keys: SigningKeys;
  probes: Probe[];
  services: Services;
  principals: PrincipalResolver;
  /** The IDE page Apollo serves: the CSP allows its inline script by hash. */
  idePage: string;
  /** The built web app (dist/web), served at /app. */
  webAppDir: string;
}

/** Malformed or oversized bodies get a GraphQL-shaped error, never a stack trace. */
const bodyErrorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message =
    status === 413 ? "Request body too large" : status < 500 ? "Malformed request body" : "Internal server error";
  res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR" } }] });
};

export function createExpressApp(deps: HttpDeps, apollo: ApolloServer<GraphQLContext>): Express {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders({ https: config.PUBLIC_URL.startsWith("https:"), inlineScripts: inlineScriptHashes(deps.idePage) }));
  app.set("trust proxy", config.TRUST_PROXY);
  app.use(metrics.middleware);
  app.use(requestMetaMiddleware(logger, metrics.labelOf));
  app.use(healthRoutes(deps.probes, (name, error) => logger.warn({ probe: name, err: error }, "readiness probe failed")));

  app.get("/.well-known/jwks.json", (_req, res) => {
    res.setHeader("cache-control", "public, max-age=300");
    res.json(deps.keys.jwks);
  });
  if (config.METRICS_ENABLED) app.get("/metrics", metricsRoute(metrics, config.METRICS_TOKEN));
  app.use(ideAssetsRouter());
  app.use(WEB_APP_PATH, webAppRouter(deps.webAppDir));
  app.use(auditExportRouter({ principals: deps.principals, db: deps.db, logger }));

  const cookieRules = {
    secure: config.REFRESH_COOKIE_SECURE,
    allowedOrigins: new Set([new URL(config.PUBLIC_URL).origin, new URL(config.APP_URL).origin, ...config.CORS_ORIGINS]),
    onProblem: createRefreshCookieWarnings(logger),
  };
  app.use(
    "/graphql",
    cors<express.Request>((req, callback) => {
      const origin = req.get("origin");
      const allowed = origin === undefined || cookieRules.allowedOrigins.has(origin);
      // A refused preflight never reaches a resolver: this log line is all an operator gets.
      const refused = allowed ? null : refreshCookieProblem({ origin, host: req.host, secure: req.secure }, cookieRules);
      if (refused?.problem === "ORIGIN_NOT_ALLOWED" && origin !== undefined) cookieRules.onProblem(origin, refused);
      callback(null, { origin: allowed, credentials: true, maxAge: 600 });
    }),
    cookieParser(),
    express.json({ limit: config.MAX_REQUEST_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<GraphQLContext> => ({
        meta: req.meta,
        logger,
        services: deps.services,
        auth: new RequestAuth(bearerToken(req.get("authorization")), deps.principals, deps.agentPrincipals),
        refreshCookie: createRefreshCookieJar(req, res, cookieRules),
        rateLimiter: deps.rateLimiter,
      }),
    }),
  );
  app.use(bodyErrorHandler);
  return app;
}
