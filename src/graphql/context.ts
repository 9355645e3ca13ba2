import type { Logger } from "../logging/logger";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { RequestMeta } from "../request-meta";
import type { Services } from "../services";
import type { RefreshCookieJar } from "../http/refresh-cookie";
import type { RequestAuth } from "./request-auth";

/** What every resolver receives: who asks, from where, and the services to ask. */
export interface GraphQLContext {
  meta: RequestMeta;
  logger: Logger;
  auth: RequestAuth;
  services: Services;
  refreshCookie: RefreshCookieJar;
  rateLimiter: RateLimiter;
}
