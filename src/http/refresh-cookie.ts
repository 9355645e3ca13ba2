import type { Request, Response } from "express";

export const REFRESH_COOKIE = "ais_refresh";
const COOKIE_PATH = "/graphql";

/**
 * The refresh token in an httpOnly, SameSite=Strict cookie scoped to /graphql, for browsers
 * that prefer not to hold it in script-readable storage. CSRF: the cookie only rides on
 * same-site requests, and Apollo's CSRF prevention refuses simple (non-preflighted) requests.
 */
export interface RefreshCookieJar {
  read(): string | undefined;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export function createRefreshCookieJar(req: Request, res: Response, options: { secure: boolean }): RefreshCookieJar {
  const base = { httpOnly: true, secure: options.secure, sameSite: "strict" as const, path: COOKIE_PATH };
  return {
    read() {
      const value: unknown = req.cookies?.[REFRESH_COOKIE];
      return typeof value === "string" && value.length > 0 ? value : undefined;
    },
    set(token, expiresAt) {
      res.cookie(REFRESH_COOKIE, token, { ...base, expires: expiresAt });
    },
    clear() {
      res.clearCookie(REFRESH_COOKIE, base);
    },
  };
}
