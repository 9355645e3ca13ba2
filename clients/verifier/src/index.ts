/** Verifies Agent Identity access tokens in other services: a plain function and an Express-style middleware. */
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from "./verifier";
export type { VerifiedToken } from "./jwt";
export type { Middleware, RequestLike, ResponseLike } from "./middleware";
export { InvalidTokenError, TokenVerifierError, VerifierUnavailableError, type InvalidTokenReason } from "./errors";
