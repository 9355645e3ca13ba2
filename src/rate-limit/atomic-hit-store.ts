import crypto from "node:crypto";
import { Store, type Identity } from "graphql-rate-limit";
import type { RateLimiter } from "./rate-limiter";

/** Which parts of graphql-rate-limit's identity name a rule's counter. */
export interface CounterScope {
  /** The rule's name: the counter's namespace (rules sharing a name share counters). */
  name: string;
  /** The window as written on the rule, for the error when it is not a duration. */
  window: string;
  max: number;
  /** Set for "ip+field": the counter is per field (qualified by this type name) as well as per caller. */
  perFieldOf?: string;
}

/**
 * graphql-rate-limit's `Store`, made to decide atomically. The library reads a list of past
 * call times, compares its length with `max`, then writes the list back: two steps with
 * other requests in between, so concurrent calls slip through (STACK.md: 13 to 50 of 50 at a
 * limit of 10). Here:
 *
 * - the read reports no history, so the library's own comparison never refuses (max >= 1);
 * - the write, the one call that receives the window the library parsed, is a single
 *   `RateLimiter.check` -> `SharedStore.hit`, which records-or-refuses atomically and throws
 *   `RateLimitedError` (with the retry delay, which the library's string result cannot carry).
 *
 * One instance serves one call of one rule: it holds that request's limiter.
 */
export class AtomicHitStore extends Store {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly scope: CounterScope,
  ) {
    super();
  }

  getForIdentity(): readonly number[] {
    return [];
  }

  async setForIdentity(identity: Identity, _timestamps: readonly number[], windowMs?: number): Promise<void> {
    if (windowMs === undefined || !Number.isFinite(windowMs) || windowMs <= 0) {
      throw new Error(`Rate limit "${this.scope.name}": window "${this.scope.window}" is not a duration`);
    }
    await this.limiter.check(counterKey(this.scope, identity), Math.ceil(windowMs), this.scope.max);
  }
}

/**
 * `rl:<rule>:<digest>`. The caller part (an ip, a lower-cased email) is hashed: keys stay
 * short whatever the input's length, and no address sits in Redis key names.
 */
export function counterKey(scope: CounterScope, identity: Identity): string {
  const subject =
    scope.perFieldOf === undefined
      ? identity.contextIdentity
      : `${identity.contextIdentity}\n${scope.perFieldOf}.${identity.fieldIdentity}`;
  return `rl:${scope.name}:${crypto.createHash("sha256").update(subject).digest("base64url")}`;
}
