import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import type { Clock } from "../clock";
import type { SigningKey, SigningKeys } from "./signing-keys";

/** The claims this server puts in an access token and relies on when reading one. */
export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  roles: string[];
  /** Present only on restricted sessions: other services must refuse such tokens. */
  restriction?: string;
  iat: number;
  exp: number;
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: "expired" | "invalid" };

export interface AccessTokenService {
  issue(input: { userId: string; sessionId: string; roles: string[]; restriction?: string | null; notAfter: Date }): {
    token: string;
    expiresAt: Date;
  };
  verify(token: string): AccessTokenCheck;
}

/** How many verified tokens each process remembers (a token is re-sent on every request). */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Short-lived JWTs, signed by the key that signs now (see SigningKeys) and verified by the key
 * their `kid` names, so tokens signed before a rotation stay valid while their key is held.
 * Verification pins the one algorithm configured (so `alg: none` and algorithm swaps are
 * refused), and checks `iss`, `aud`, `exp` against the injected clock.
 * A token whose signature was verified is remembered by its exact text, so the RSA check
 * runs once per token rather than once per request; expiry is still checked every time.
 */
export function createAccessTokenService(options: {
  keys: SigningKeys;
  issuer: string;
  audience: string;
  ttlMs: number;
  clock: Clock;
}): AccessTokenService {
  const { keys, issuer, audience, ttlMs, clock } = options;
  const verified = new Map<string, AccessClaims>();

  function remember(token: string, claims: AccessClaims): void {
    if (verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = verified.keys().next().value;
      if (oldest !== undefined) verified.delete(oldest);
    }
    verified.set(token, claims);
  }

  return {
    issue({ userId, sessionId, roles, restriction, notAfter }) {
      const nowMs = clock.now().getTime();
      const expMs = Math.min(nowMs + ttlMs, notAfter.getTime());
      const claims = {
        sub: userId,
        sid: sessionId,
        jti: crypto.randomUUID(),
        roles,
        ...(restriction ? { restriction } : {}),
        iat: Math.floor(nowMs / 1000),
        exp: Math.floor(expMs / 1000),
      };
      const signer = keys.signerAt(clock.now());
      const token = jwt.sign(claims, signer.signingKey, {
        algorithm: keys.algorithm,
        keyid: signer.kid,
        issuer,
        audience,
      });
      return { token, expiresAt: new Date(claims.exp * 1000) };
    },
    verify(token) {
      const known = verified.get(token);
      if (known) {
        if (known.exp * 1000 > clock.now().getTime()) return { ok: true, claims: known };
        verified.delete(token);
        return { ok: false, reason: "expired" };
      }
      const key = keyNamedBy(token, keys);
      if (!key) return { ok: false, reason: "invalid" };
      try {
        const payload = jwt.verify(token, key.verificationKey, {
          algorithms: [keys.algorithm],
          issuer,
          audience,
          clockTimestamp: Math.floor(clock.now().getTime() / 1000),
        });
        if (typeof payload !== "object" || !isAccessClaims(payload)) return { ok: false, reason: "invalid" };
        remember(token, payload);
        return { ok: true, claims: payload };
      } catch (error) {
        return { ok: false, reason: error instanceof jwt.TokenExpiredError ? "expired" : "invalid" };
      }
    },
  };
}

/** The held key the token's header names by `kid`; signature and algorithm are checked after. */
function keyNamedBy(token: string, keys: SigningKeys): SigningKey | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), "base64url").toString("utf8"));
    const kid = typeof header === "object" && header !== null ? (header as { kid?: unknown }).kid : undefined;
    return typeof kid === "string" ? keys.find(kid) : undefined;
  } catch {
    return undefined;
  }
}

function isAccessClaims(payload: Record<string, unknown>): payload is AccessClaims & Record<string, unknown> {
  return (
    typeof payload.sub === "string" &&
    typeof payload.sid === "string" &&
    typeof payload.jti === "string" &&
    typeof payload.exp === "number" &&
    Array.isArray(payload.roles) &&
    payload.roles.every((role) => typeof role === "string")
  );
}
