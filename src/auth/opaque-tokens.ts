import crypto from "node:crypto";

/**
 * Opaque secrets of the form `<id>.<secret>`: the id finds the row, the secret is checked
 * against a stored SHA-256 in constant time. Secrets carry 256 bits of randomness, so a fast
 * hash is enough (there is nothing to brute-force).
 */
export interface OpaqueToken {
  id: string;
  secret: string;
}

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const PART = /^[A-Za-z0-9_-]+$/;

export function generateOpaqueToken(): OpaqueToken {
  return {
    id: crypto.randomBytes(ID_BYTES).toString("base64url"),
    secret: crypto.randomBytes(SECRET_BYTES).toString("base64url"),
  };
}

export function formatOpaqueToken(token: OpaqueToken): string {
  return `${token.id}.${token.secret}`;
}

export function parseOpaqueToken(text: string): OpaqueToken | undefined {
  if (text.length > 200) return undefined;
  const [id, secret, extra] = text.split(".");
  if (!id || !secret || extra !== undefined || !PART.test(id) || !PART.test(secret)) return undefined;
  return { id, secret };
}

export function hashSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("base64url");
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret));
  const expected = Buffer.from(storedHash);
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

/**
 * The successor of a refresh token, derived rather than drawn: presenting the same token
 * twice inside the grace window (two tabs, a retried request) yields the same successor, so
 * a session keeps one chain. Only a holder of `chainKey` and the parent token can compute it.
 */
export function deriveSuccessor(chainKey: Buffer, parent: OpaqueToken): OpaqueToken {
  const mac = (label: string, bytes: number) =>
    crypto.createHmac("sha256", chainKey).update(label).update(formatOpaqueToken(parent)).digest().subarray(0, bytes).toString("base64url");
  return { id: mac("id:", ID_BYTES), secret: mac("secret:", SECRET_BYTES) };
}
