import { RateLimitedError } from "../errors/errors";
import type { SharedStore } from "../store/shared-store";

/**
 * The one place a rate limit is decided. Every decision is a single atomic `SharedStore.hit`
 * (one Lua script on Redis, one synchronous step in memory): never a read followed by a
 * write, so concurrent requests, in one process or many, cannot slip past the limit.
 */
export interface RateLimiter {
  /** Counts one hit on `key`; throws `RateLimitedError` when `max` hits already fall in the window. */
  check(key: string, windowMs: number, max: number): Promise<void>;
}

/** `scale` multiplies every maximum (RATE_LIMIT_SCALE: tests and trusted internal deployments). */
export function createRateLimiter(store: SharedStore, scale = 1): RateLimiter {
  return {
    async check(key, windowMs, max) {
      const result = await store.hit(key, windowMs, max * scale);
      if (!result.allowed) throw new RateLimitedError(retryAfterSeconds(result.retryAfterMs));
    },
  };
}

/** Whole seconds, rounded up and at least 1, so a client that waits that long gets through. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
