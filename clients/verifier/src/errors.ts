/**
 * Why a token was refused. The first group is about the token itself (its holder should sign
 * in or refresh); `restricted` is a session that may only finish a step (MFA enrolment, a
 * password change, email verification) and must not be used elsewhere; `inactive` is what
 * `tokenStatus` said of a token whose session ended (logout, revocation, a disabled account).
 */
export type InvalidTokenReason =
  | "missing"
  | "malformed"
  | "algorithm"
  | "unknown_key"
  | "signature"
  | "issuer"
  | "audience"
  | "expired"
  | "not_yet_valid"
  | "claims"
  | "restricted"
  | "inactive";

/** Any refusal: `status` is the HTTP status a service should answer with, `wwwAuthenticate` its header. */
export abstract class TokenVerifierError extends Error {
  abstract readonly status: 401 | 503;
  abstract readonly wwwAuthenticate: string | undefined;
}

/**
 * The token does not authenticate anyone here. `reason` is for the service's own logs; what a
 * client is told (see `publicReason`) says only whether refreshing can help.
 */
export class InvalidTokenError extends TokenVerifierError {
  override readonly name = "InvalidTokenError";
  readonly status = 401;
  constructor(readonly reason: InvalidTokenReason) {
    super(`Access token refused: ${reason}`);
  }

  /** RFC 6750: no error code when no credentials were sent at all. */
  get wwwAuthenticate(): string {
    return this.reason === "missing" ? "Bearer" : `Bearer error="invalid_token", error_description="${this.publicReason}"`;
  }

  /** `expired` (refresh), `restricted` (finish the pending step), or `invalid` (sign in again). */
  get publicReason(): "missing" | "expired" | "restricted" | "invalid" {
    if (this.reason === "missing" || this.reason === "expired" || this.reason === "restricted") return this.reason;
    return "invalid";
  }
}

/**
 * The verifier could not decide: the JWKS or `tokenStatus` did not answer (in time, or
 * sensibly). It fails closed; the request can be retried.
 */
export class VerifierUnavailableError extends TokenVerifierError {
  override readonly name = "VerifierUnavailableError";
  readonly status = 503;
  readonly wwwAuthenticate = undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
