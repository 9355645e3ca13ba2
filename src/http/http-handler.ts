import type { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "cors";
import express from "express";
import type { Config } from "../config/config";
import type { GraphQLContext } from "../graphql/context";
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
import { inlineScriptHashes, securityHeaderList, securityHeaders } from "./security-headers";
import { createRefreshCookieWarnings } from "./refresh-cookie-check";
import { bodyErrorHandler } from "./body-error";
import { compileTrust } from "./caller";
import { createGraphqlEndpoint } from "./graphql-endpoint";
import { createGraphqlRequests } from "./graphql-context";
import { createRequestTracker, requestTracking } from "./request-tracker";
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

/**
 * The HTTP server's request handler: `POST /graphql` with a JSON body on the direct endpoint
 * (the path every client calls), everything else through Express.
 */
export function createHttpHandler(deps: HttpDeps, apollo: ApolloServer<GraphQLContext>): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, logger, metrics } = deps;
  const track = createRequestTracker(logger, metrics, compileTrust(config.TRUST_PROXY));
  const headers = securityHeaderList({ https: config.PUBLIC_URL.startsWith("https:"), inlineScripts: inlineScriptHashes(deps.idePage) });
  const graphql = createGraphqlRequests({
    logger,
    services: deps.services,
    principals: deps.principals,
    agentPrincipals: deps.agentPrincipals,
    rateLimiter: deps.rateLimiter,
    cookieRules: {
      secure: config.REFRESH_COOKIE_SECURE,
      allowedOrigins: new Set([new URL(config.PUBLIC_URL).origin, new URL(config.APP_URL).origin, ...config.CORS_ORIGINS]),
      onProblem: createRefreshCookieWarnings(logger),
    },
  });
  const endpoint = createGraphqlEndpoint({ apollo, graphql, track, securityHeaders: headers, maxBodyBytes: config.MAX_REQUEST_BYTES, logger });

  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders(headers));
  app.use(requestTracking(track));
  app.use(healthRoutes(deps.probes, (name, error) => logger.warn({ probe: name, err: error }, "readiness probe failed")));

  app.get("/.well-known/jwks.json", (_req, res) => {
    res.setHeader("cache-control", "public, max-age=300");
    res.json(deps.keys.jwks);
  });
  if (config.METRICS_ENABLED) app.get("/metrics", metricsRoute(metrics, config.METRICS_TOKEN));
  app.use(ideAssetsRouter());
  app.use(WEB_APP_PATH, webAppRouter(deps.webAppDir));
  app.use(auditExportRouter({ principals: deps.principals, db: deps.db, logger }));
  app.use(
    "/graphql",
    cors<express.Request>((req, callback) => {
      callback(null, { origin: graphql.allowsOrigin(req.get("origin"), req.caller), credentials: true, maxAge: 600 });
    }),
    express.json({ limit: config.MAX_REQUEST_BYTES }),
    expressMiddleware(apollo, { context: async ({ req, res }) => graphql.context(req, res, req.caller, req.meta) }),
  );
  app.use(bodyErrorHandler);
  return (req, res) => {
    if (!endpoint(req, res)) app(req, res);
  };
}
