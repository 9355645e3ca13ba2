import { getDomain } from "tldts";
import type { Logger } from "../logging/logger";

/** Why a browser will not keep, or not send back, the refresh cookie (see RefreshCookieProblem in the schema). */
export type RefreshCookieProblem = "ORIGIN_NOT_ALLOWED" | "CROSS_SITE" | "INSECURE_CONNECTION";

export interface RefreshCookieWarning {
  problem: RefreshCookieProblem;
  message: string;
}

/** What the request says about the page that called and how it reached this server. */
export interface CallerView {
  /** The `Origin` header; absent for callers that are not browsers. */
  origin: string | undefined;
  /** host[:port] the request was sent to (X-Forwarded-Host only from a trusted proxy). */
  host: string | undefined;
  /** Whether it arrived over TLS (X-Forwarded-Proto only from a trusted proxy). */
  secure: boolean;
}

export interface CookieRules {
  /** The cookie's `Secure` flag (REFRESH_COOKIE_SECURE). */
  secure: boolean;
  /** Origins CORS answers with credentials: PUBLIC_URL's, APP_URL's and CORS_ORIGINS. */
  allowedOrigins: ReadonlySet<string>;
}

/**
 * Whether the httpOnly, SameSite=Strict refresh cookie can work for the page that called,
 * judged as browsers do: the page must be allowed by CORS (unless it is this server's own
 * origin), on the same site (registrable domain, by the public suffix list, and scheme),
 * and the cookie, being Secure, is dropped on plain http except on loopback hosts. Null
 * when it can work, or when there is no Origin to judge (not a browser).
 */
export function refreshCookieProblem(caller: CallerView, rules: CookieRules): RefreshCookieWarning | null {
  if (caller.origin === undefined) return null;
  const page = originUrl(caller.origin);
  if (!page) {
    return {
      problem: "CROSS_SITE",
      message: `The calling page has no origin of its own ("${caller.origin}": a sandboxed frame or a local file): browsers never send it the refresh cookie. Open the web app from an http(s) address on this server's site.`,
    };
  }
  const server = caller.host ? hostUrl(caller.host, caller.secure) : undefined;
  const sameOrigin = server !== undefined && page.host === server.host;
  if (!sameOrigin && !rules.allowedOrigins.has(caller.origin)) {
    return {
      problem: "ORIGIN_NOT_ALLOWED",
      message: `The page at ${caller.origin} is not an allowed origin (PUBLIC_URL, APP_URL or CORS_ORIGINS): browsers refuse it this server's answers and keep no cookie from them. Add it to CORS_ORIGINS, or use the web app this server serves at /app.`,
    };
  }
  // Same origin: the page's own scheme is how the browser reached us, whatever a proxy says.
  const reached = sameOrigin ? page : server;
  if (!reached) return null;
  if (!sameOrigin && (page.protocol !== reached.protocol || siteOf(page.hostname) !== siteOf(reached.hostname))) {
    return {
      problem: "CROSS_SITE",
      message: `The page at ${caller.origin} is on another site than this server (${reached.protocol}//${reached.host}): browsers neither keep nor send a SameSite=Strict cookie across sites, so refreshing fails once the access token expires. Serve the web app from this server's site with the same scheme (this server's /app, or e.g. app.example.com beside id.example.com, both https).`,
    };
  }
  if (rules.secure && reached.protocol === "http:" && !isLoopback(reached.hostname)) {
    return {
      problem: "INSECURE_CONNECTION",
      message: `This server was reached over plain http at ${reached.host}: browsers drop the Secure refresh cookie everywhere but on localhost. Serve it over https (behind a TLS proxy, set TRUST_PROXY so its X-Forwarded-Proto is believed); REFRESH_COOKIE_SECURE=false is for a trusted network only.`,
    };
  }
  return null;
}

/** The most distinct origins one process warns about: a flood of made-up Origin headers cannot flood the log. */
const MAX_WARNED = 200;

/** Logs each problem once per origin and process, at warn: an operator sees a misconfiguration at its first use. */
export function createRefreshCookieWarnings(logger: Logger): (origin: string, warning: RefreshCookieWarning) => void {
  const warned = new Set<string>();
  return (origin, warning) => {
    const key = `${warning.problem} ${origin}`;
    if (warned.has(key) || warned.size >= MAX_WARNED) return;
    warned.add(key);
    logger.warn({ origin, problem: warning.problem }, `refresh cookie cannot work for this origin: ${warning.message}`);
  };
}

function originUrl(origin: string): URL | undefined {
  if (!URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
}

function hostUrl(host: string, secure: boolean): URL | undefined {
  const text = `${secure ? "https" : "http"}://${host}`;
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** The registrable domain (private suffixes such as github.io included, as browsers count them); an address or a bare name is its own site. */
function siteOf(hostname: string): string {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname;
}

/** Hosts on which browsers keep Secure cookies over plain http. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
