import type { Request, Response } from "express";
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

export function createRefreshCookieJar(req: Request, res: Response, options: RefreshCookieOptions): RefreshCookieJar {
  const base = { httpOnly: true, secure: options.secure, sameSite: "strict" as const, path: COOKIE_PATH };
  return {
    read() {
      const value: unknown = req.cookies?.[REFRESH_COOKIE];
      return typeof value === "string" && value.length > 0 ? value : undefined;
    },
    set(token, expiresAt) {
      res.cookie(REFRESH_COOKIE, token, { ...base, expires: expiresAt });
      const origin = req.get("origin");
      const warning = refreshCookieProblem({ origin, host: req.host, secure: req.secure }, options);
      if (warning && origin !== undefined) options.onProblem(origin, warning);
      return warning;
    },
    clear() {
      res.clearCookie(REFRESH_COOKIE, base);
    },
  };
}
