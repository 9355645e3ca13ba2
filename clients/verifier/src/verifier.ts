import { InvalidTokenError } from "./errors";
import { createJwksCache } from "./jwks";
import { parseToken, verifySigned, type VerifiedToken } from "./jwt";
import { createLivenessCheck } from "./liveness";
import { createMiddleware, type Middleware } from "./middleware";

export interface TokenVerifierOptions {
  /** The identity server's base URL: JWKS at `/.well-known/jwks.json`, `tokenStatus` at `/graphql`. */
  url: string;
  /** The `iss` its tokens carry (its `JWT_ISSUER`: `PUBLIC_URL` when set, else `agent-identity`). */
  issuer: string;
  /** The `aud` its tokens carry (its `JWT_AUDIENCE`, default `agent-identity`). */
  audience: string;
  /** Where the keys are, when not at `${url}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Ask `tokenStatus` whether the session still counts; `cacheMs` (default 5,000) reuses an answer per token. Off by default. */
  liveness?: boolean | { cacheMs?: number };
  /** Fetch the keys again after this long (default 10 minutes); a new `kid` fetches sooner. */
  jwksMaxAgeMs?: number;
  /** At most one key fetch per this interval, whatever `kid`s arrive (default 30,000). */
  jwksMinRefetchMs?: number;
  /** Leeway for `exp` and `nbf` against this host's clock (default 0). */
  clockToleranceMs?: number;
  /** Deadline of one request to the server (default 5,000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch (default `Date.now`); tests move it. */
  now?: () => number;
}

export interface TokenVerifier {
  /** The token's claims, or throws `InvalidTokenError` (401) / `VerifierUnavailableError` (503). */
  verify(token: string): Promise<VerifiedToken>;
  /** The same, from an `Authorization` header value (`Bearer <token>`); a missing header is `InvalidTokenError("missing")`. */
  authenticate(authorization: string | string[] | undefined): Promise<VerifiedToken>;
  /** Express/Connect-style `(req, res, next)`: sets `req.auth`, or answers 401/503 itself. */
  middleware(): Middleware;
}

const BEARER = /^Bearer +([^ ]+) *$/i;

/**
 * Verifies the server's access tokens locally (signature from JWKS, pinned RS256, `iss`,
 * `aud`, expiry, no restriction), and, with `liveness`, asks the server whether the session
 * still counts. Creating one fetches nothing; the first verification fetches the keys.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const base = options.url.replace(/\/+$/, "").replace(/\/graphql$/, "");
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const jwks = createJwksCache({
    url: options.jwksUrl ?? `${base}/.well-known/jwks.json`,
    fetch: fetchImpl,
    now,
    timeoutMs,
    maxAgeMs: options.jwksMaxAgeMs ?? 600_000,
    minRefetchMs: options.jwksMinRefetchMs ?? 30_000,
  });
  const liveness = options.liveness
    ? createLivenessCheck({
        endpoint: `${base}/graphql`,
        fetch: fetchImpl,
        now,
        timeoutMs,
        cacheMs: (typeof options.liveness === "object" ? options.liveness.cacheMs : undefined) ?? 5_000,
      })
    : undefined;

  async function verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== "string" || token === "") throw new InvalidTokenError("missing");
    const parsed = parseToken(token);
    const key = await jwks.key(parsed.kid);
    if (!key) throw new InvalidTokenError("unknown_key");
    const verified = verifySigned(parsed, key, {
      issuer: options.issuer,
      audience: options.audience,
      nowMs: now(),
      clockToleranceMs: options.clockToleranceMs ?? 0,
    });
    await liveness?.check(token);
    return verified;
  }

  async function authenticate(authorization: string | string[] | undefined): Promise<VerifiedToken> {
    if (authorization === undefined || authorization === "") throw new InvalidTokenError("missing");
    const match = typeof authorization === "string" ? BEARER.exec(authorization) : null;
    if (!match) throw new InvalidTokenError("malformed");
    return verify(match[1] as string);
  }

  return { verify, authenticate, middleware: () => createMiddleware(authenticate) };
}
