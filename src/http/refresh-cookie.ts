import type { IncomingMessage, ServerResponse } from "node:http";
import { parse, serialize } from "cookie";
import type { Caller } from "./caller";
import { refreshCookieProblem, type CookieRules, type RefreshCookieWarning } from "./refresh-cookie-check";

export const REFRESH_COOKIE = "ais_refresh";
const COOKIE_PATH = "/graphql";

/**
 * The refresh token in an httpOnly, SameSite=Strict cookie scoped to /graphql, for browsers
 * that prefer not to hold it in script-readable storage. CSRF: the cookie only rides on
 * same-site requests, and Apollo's CSRF prevention refuses simple (non-preflighted) requests.
 */
export interface RefreshCookieJar {
  read(): string | undefined;
  /** Sets the cookie; says why when the calling browser will not keep it or send it back. */
  set(token: string, expiresAt: Date): RefreshCookieWarning | null;
  clear(): void;
}

export interface RefreshCookieOptions extends CookieRules {
  /** Told of every problem found (it logs each once per origin). */
  onProblem(origin: string, warning: RefreshCookieWarning): void;
}

/** The jar of one request: the Cookie header is parsed only if a resolver reads it. */
export function createRefreshCookieJar(req: IncomingMessage, res: ServerResponse, caller: Caller, options: RefreshCookieOptions): RefreshCookieJar {
  const base = { httpOnly: true, secure: options.secure, sameSite: "strict" as const, path: COOKIE_PATH };
  return {
    read() {
      const header = req.headers.cookie;
      const value = header ? parse(header)[REFRESH_COOKIE] : undefined;
      return value ? value : undefined;
    },
    set(token, expiresAt) {
      res.appendHeader("set-cookie", serialize(REFRESH_COOKIE, token, { ...base, expires: expiresAt }));
      const origin = req.headers.origin;
      const warning = refreshCookieProblem({ origin, host: caller.host(), secure: caller.secure() }, options);
      if (warning && origin !== undefined) options.onProblem(origin, warning);
      return warning;
    },
    clear() {
      res.appendHeader("set-cookie", serialize(REFRESH_COOKIE, "", { ...base, expires: new Date(0) }));
    },
  };
}
