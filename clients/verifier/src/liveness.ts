import crypto from "node:crypto";
import { InvalidTokenError, VerifierUnavailableError } from "./errors";

export interface LivenessOptions {
  /** The server's GraphQL endpoint. */
  endpoint: string;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
  /** How long an answer is reused for the same token. */
  cacheMs: number;
}

interface Answer {
  active: boolean;
  restricted: boolean;
  until: number;
}

/** Answers remembered at most; the oldest is forgotten first. */
const CACHE_SIZE = 10_000;
const QUERY = "query TokenStatus($token: String!) { tokenStatus(token: $token) { active restriction } }";

/**
 * Asks the server's `tokenStatus` whether a token's session still counts (logout, revocation
 * and disabled accounts show there at once; the signature alone holds until expiry). Answers
 * are cached per token for `cacheMs`, so a busy service asks once per token per interval;
 * concurrent checks of one token share one request. Tokens are keyed by their SHA-256, so the
 * cache holds no usable token.
 */
export function createLivenessCheck(options: LivenessOptions) {
  const answers = new Map<string, Answer>();
  const pending = new Map<string, Promise<Answer>>();

  async function ask(token: string): Promise<Answer> {
    let response: Response;
    let body: unknown;
    try {
      response = await options.fetch(options.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ query: QUERY, variables: { token } }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      body = await response.json();
    } catch (cause) {
      throw new VerifierUnavailableError("tokenStatus could not be reached", { cause });
    }
    const status = (body as { data?: { tokenStatus?: { active?: unknown; restriction?: unknown } } } | null)?.data?.tokenStatus;
    // RATE_LIMITED, SERVICE_UNAVAILABLE, a proxy's error page: no answer, so no decision.
    if (!response.ok || typeof status?.active !== "boolean") {
      throw new VerifierUnavailableError(`tokenStatus gave no answer (HTTP ${response.status})`);
    }
    return { active: status.active, restricted: status.restriction !== null && status.restriction !== undefined, until: options.now() + options.cacheMs };
  }

  function remember(key: string, answer: Answer): void {
    if (answers.size >= CACHE_SIZE) {
      const oldest = answers.keys().next().value;
      if (oldest !== undefined) answers.delete(oldest);
    }
    answers.set(key, answer);
  }

  return {
    /** Throws InvalidTokenError("inactive" | "restricted") or VerifierUnavailableError. */
    async check(token: string): Promise<void> {
      const key = crypto.createHash("sha256").update(token).digest("base64url");
      let answer = answers.get(key);
      if (!answer || answer.until <= options.now()) {
        answers.delete(key);
        let asking = pending.get(key);
        if (!asking) {
          asking = ask(token).finally(() => pending.delete(key));
          pending.set(key, asking);
        }
        answer = await asking;
        remember(key, answer);
      }
      if (!answer.active) throw new InvalidTokenError("inactive");
      if (answer.restricted) throw new InvalidTokenError("restricted");
    },
  };
}
