import type { IncomingMessage, ServerResponse } from "node:http";
import type { AgentPrincipalResolver } from "../agents/agent-principal-resolver";
import type { PrincipalResolver } from "../auth/principal-resolver";
import type { GraphQLContext } from "../graphql/context";
import { bearerToken, RequestAuth } from "../graphql/request-auth";
import type { Logger } from "../logging/logger";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { RequestMeta } from "../request-meta";
import type { Services } from "../services";
import type { Caller } from "./caller";
import { createRefreshCookieJar, type RefreshCookieOptions } from "./refresh-cookie";
import { refreshCookieProblem } from "./refresh-cookie-check";

export interface GraphqlRequestDeps {
  logger: Logger;
  services: Services;
  principals: PrincipalResolver;
  agentPrincipals: AgentPrincipalResolver;
  rateLimiter: RateLimiter;
  cookieRules: RefreshCookieOptions;
}

/** What a GraphQL request over HTTP needs besides Apollo, whichever path it came by. */
export interface GraphqlRequests {
  /** Whether a page at `origin` may read the answer (with credentials); no Origin (not a browser) may. */
  allowsOrigin(origin: string | undefined, caller: Caller): boolean;
  context(req: IncomingMessage, res: ServerResponse, caller: Caller, meta: RequestMeta): GraphQLContext;
}

export function createGraphqlRequests(deps: GraphqlRequestDeps): GraphqlRequests {
  const { cookieRules } = deps;
  return {
    allowsOrigin(origin, caller) {
      if (origin === undefined || cookieRules.allowedOrigins.has(origin)) return true;
      // A refused page never reaches a resolver: this log line is all an operator gets.
      const refused = refreshCookieProblem({ origin, host: caller.host(), secure: caller.secure() }, cookieRules);
      if (refused?.problem === "ORIGIN_NOT_ALLOWED") cookieRules.onProblem(origin, refused);
      return false;
    },
    context: (req, res, caller, meta) => ({
      meta,
      logger: deps.logger,
      services: deps.services,
      auth: new RequestAuth(bearerToken(req.headers.authorization), deps.principals, deps.agentPrincipals),
      refreshCookie: createRefreshCookieJar(req, res, caller, cookieRules),
      rateLimiter: deps.rateLimiter,
    }),
  };
}
