import { InvalidTokenError, TokenVerifierError } from "./errors";
import type { VerifiedToken } from "./jwt";

/** What the middleware reads and sets on a request: Node's, Express's and Connect's all fit. */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  auth?: VerifiedToken;
}

/** What it answers a refusal on: Node's `ServerResponse` (and so Express's). */
export interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export type Middleware = (req: RequestLike, res: ResponseLike, next: (error?: unknown) => void) => void;

/**
 * Sets `req.auth` and calls `next()`; answers a refused token itself with 401 and a
 * `WWW-Authenticate: Bearer` challenge (RFC 6750), and an undecidable one with 503. The body
 * says only what a client can act on (`expired`, `restricted`, `invalid`). Anything else
 * goes to `next(error)`.
 */
export function createMiddleware(authenticate: (authorization: string | string[] | undefined) => Promise<VerifiedToken>): Middleware {
  return (req, res, next) => {
    authenticate(req.headers.authorization).then(
      (verified) => {
        req.auth = verified;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof TokenVerifierError)) return next(error);
        res.statusCode = error.status;
        res.setHeader("content-type", "application/json");
        if (error.wwwAuthenticate) res.setHeader("www-authenticate", error.wwwAuthenticate);
        if (error.status === 503) res.setHeader("retry-after", "1");
        const body = error instanceof InvalidTokenError ? { error: "invalid_token", reason: error.publicReason } : { error: "temporarily_unavailable" };
        res.end(JSON.stringify(body));
      },
    );
  };
}
