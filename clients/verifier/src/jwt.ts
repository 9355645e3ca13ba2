import crypto, { type KeyObject } from "node:crypto";
import { InvalidTokenError } from "./errors";

/** What the server puts in an access token, as a verified token hands it on. */
export interface VerifiedToken {
  /** The user's id (`sub`). */
  subject: string;
  /** The session's id (`sid`): `tokenStatus` and the server's session list know it. */
  sessionId: string;
  /** The token's own id (`jti`). */
  tokenId: string;
  /** Granted roles, closed over inheritance. */
  roles: string[];
  issuedAt: Date | undefined;
  expiresAt: Date;
  /** Every claim as signed, for anything the fields above leave out. */
  claims: Record<string, unknown>;
}

/** Longer than any token the server issues by far; bigger input is refused before any parsing. */
const MAX_TOKEN_LENGTH = 8_192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface ParsedToken {
  kid: string;
  signingInput: string;
  signature: Buffer;
  payloadPart: string;
}

/**
 * Splits a compact JWS and checks its header: RS256 only (the algorithm is pinned, so `none`
 * and HS256-with-the-public-key are refused before any key is looked at), a `kid`, and no
 * `crit` extensions (none are understood, so any is refused, as RFC 7515 asks).
 */
export function parseToken(token: string): ParsedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError("malformed");
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new InvalidTokenError("malformed");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header.alg !== "RS256") throw new InvalidTokenError("algorithm");
  if (typeof header.kid !== "string" || header.crit !== undefined) throw new InvalidTokenError("malformed");
  return { kid: header.kid, signingInput: `${headerPart}.${payloadPart}`, signature: Buffer.from(signaturePart, "base64url"), payloadPart };
}

export interface ClaimRules {
  issuer: string;
  audience: string;
  nowMs: number;
  clockToleranceMs: number;
}

/** Checks the signature, then the claims: pinned `iss` and `aud`, `exp`/`nbf`, the shape, and no `restriction`. */
export function verifySigned(parsed: ParsedToken, key: KeyObject, rules: ClaimRules): VerifiedToken {
  if (!crypto.verify("sha256", Buffer.from(parsed.signingInput), key, parsed.signature)) throw new InvalidTokenError("signature");
  const claims = decodeJson(parsed.payloadPart);
  if (claims.iss !== rules.issuer) throw new InvalidTokenError("issuer");
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(rules.audience)) throw new InvalidTokenError("audience");
  if (typeof claims.exp !== "number") throw new InvalidTokenError("claims");
  if (rules.nowMs >= claims.exp * 1000 + rules.clockToleranceMs) throw new InvalidTokenError("expired");
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || rules.nowMs + rules.clockToleranceMs < claims.nbf * 1000)) {
    throw new InvalidTokenError("not_yet_valid");
  }
  const { sub, sid, jti, roles, iat } = claims;
  if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string") throw new InvalidTokenError("claims");
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string")) throw new InvalidTokenError("claims");
  // A restricted session (MFA enrolment, password change, email verification pending) is
  // good for finishing that step at the identity server and nothing else.
  if (claims.restriction !== undefined && claims.restriction !== null) throw new InvalidTokenError("restricted");
  return {
    subject: sub,
    sessionId: sid,
    tokenId: jti,
    roles: [...roles],
    issuedAt: typeof iat === "number" ? new Date(iat * 1000) : undefined,
    expiresAt: new Date(claims.exp * 1000),
    claims,
  };
}

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON: refused below
  }
  throw new InvalidTokenError("malformed");
}
