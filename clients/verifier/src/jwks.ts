import crypto, { type KeyObject } from "node:crypto";
import { VerifierUnavailableError } from "./errors";

export interface JwksOptions {
  url: string;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
  /** Keys older than this are fetched again on the next lookup (kept if the fetch fails). */
  maxAgeMs: number;
  /** At most one fetch per this interval, however many unknown `kid`s arrive. */
  minRefetchMs: number;
}

/** Smaller RSA moduli are refused: a published 1024-bit key is a misconfiguration, not a key. */
const MIN_MODULUS_BITS = 2048;

/**
 * The server's public keys by `kid`. A lookup of a known kid is answered from memory; an
 * unknown kid (a key the server started signing with after the last fetch) fetches the set
 * again, but not more than once per `minRefetchMs`, so a flood of made-up kids costs the
 * server one request per interval. Concurrent lookups share one fetch.
 */
export function createJwksCache(options: JwksOptions) {
  let keys = new Map<string, KeyObject>();
  let fetchedAt: number | undefined;
  let attemptedAt: number | undefined;
  let lastFailure: VerifierUnavailableError | undefined;
  let inFlight: Promise<void> | undefined;

  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      attemptedAt = options.now();
      try {
        keys = await fetchKeys(options);
        fetchedAt = options.now();
        lastFailure = undefined;
      } catch (error) {
        lastFailure = error instanceof VerifierUnavailableError ? error : new VerifierUnavailableError("JWKS could not be read", { cause: error });
      }
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const mayFetch = () => attemptedAt === undefined || options.now() - attemptedAt >= options.minRefetchMs;

  return {
    /** The key for `kid`, or undefined when the server does not publish it; throws when that cannot be known. */
    async key(kid: string): Promise<KeyObject | undefined> {
      const stale = fetchedAt === undefined || options.now() - fetchedAt >= options.maxAgeMs;
      if (stale && mayFetch()) await refresh();
      else if (inFlight) await inFlight;
      const known = keys.get(kid);
      if (known) return known;
      if (mayFetch()) await refresh();
      const found = keys.get(kid);
      if (found) return found;
      // Not published as far as we know; but if the last fetch failed we do not know.
      if (lastFailure) throw lastFailure;
      return undefined;
    },
  };
}

async function fetchKeys(options: JwksOptions): Promise<Map<string, KeyObject>> {
  let response: Response;
  let body: unknown;
  try {
    response = await options.fetch(options.url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(options.timeoutMs) });
    body = response.ok ? await response.json() : undefined;
  } catch (cause) {
    throw new VerifierUnavailableError("JWKS could not be reached", { cause });
  }
  if (!response.ok) throw new VerifierUnavailableError(`JWKS answered HTTP ${response.status}`);
  const entries = typeof body === "object" && body !== null ? (body as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(entries)) throw new VerifierUnavailableError("JWKS answer has no keys array");
  const keys = new Map<string, KeyObject>();
  for (const entry of entries) {
    const parsed = signingKey(entry);
    if (parsed) keys.set(parsed.kid, parsed.key);
  }
  return keys;
}

/** An RS256 signing key from one JWK; anything else in the set (other uses, algorithms, sizes) is skipped. */
function signingKey(jwk: unknown): { kid: string; key: KeyObject } | undefined {
  if (typeof jwk !== "object" || jwk === null) return undefined;
  const fields = jwk as Record<string, unknown>;
  if (typeof fields.kid !== "string" || fields.kty !== "RSA") return undefined;
  if (fields.alg !== undefined && fields.alg !== "RS256") return undefined;
  if (fields.use !== undefined && fields.use !== "sig") return undefined;
  try {
    const key = crypto.createPublicKey({ key: { kty: "RSA", n: fields.n, e: fields.e } as crypto.JsonWebKey, format: "jwk" });
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) return undefined;
    return { kid: fields.kid, key };
  } catch {
    return undefined;
  }
}
