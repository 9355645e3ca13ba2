import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import type { Clock } from "../clock";
import type { SigningKeys } from "./signing-keys";

/** The claims this server puts in an access token and relies on when reading one. */
export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  roles: string[];
  iat: number;
  exp: number;
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: "expired" | "invalid" };

export interface AccessTokenService {
  issue(input: { userId: string; sessionId: string; roles: string[]; notAfter: Date }): { token: string; expiresAt: Date };
  verify(token: string): AccessTokenCheck;
}

/**
 * Short-lived JWTs. Verification pins the one algorithm configured (so `alg: none` and
 * algorithm swaps are refused), and checks `iss`, `aud`, `exp` against the injected clock.
 */
export function createAccessTokenService(options: {
  keys: SigningKeys;
  issuer: string;
  audience: string;
  ttlMs: number;
  clock: Clock;
}): AccessTokenService {
  const { keys, issuer, audience, ttlMs, clock } = options;
  return {
    issue({ userId, sessionId, roles, notAfter }) {
      const nowMs = clock.now().getTime();
      const expMs = Math.min(nowMs + ttlMs, notAfter.getTime());
      const claims = {
        sub: userId,
        sid: sessionId,
        jti: crypto.randomUUID(),
        roles,
        iat: Math.floor(nowMs / 1000),
        exp: Math.floor(expMs / 1000),
      };
      const token = jwt.sign(claims, keys.signingKey, {
        algorithm: keys.algorithm,
        keyid: keys.kid,
        issuer,
        audience,
      });
      return { token, expiresAt: new Date(claims.exp * 1000) };
    },
    verify(token) {
      try {
        const payload = jwt.verify(token, keys.verificationKey, {
          algorithms: [keys.algorithm],
          issuer,
          audience,
          clockTimestamp: Math.floor(clock.now().getTime() / 1000),
        });
        if (typeof payload !== "object" || !isAccessClaims(payload)) return { ok: false, reason: "invalid" };
        return { ok: true, claims: payload };
      } catch (error) {
        return { ok: false, reason: error instanceof jwt.TokenExpiredError ? "expired" : "invalid" };
      }
    },
  };
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
