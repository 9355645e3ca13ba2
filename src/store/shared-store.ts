/**
 * Fast state that every server process must see alike: cache versions, revocations, rate
 * limit counters, invalidation messages. In production it is Redis; embedded, it lives in
 * this process. Every operation that decides something is atomic in both.
 */
export interface SharedStore {
  readonly kind: "memory" | "redis";
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores `value` unless the key holds one; returns what the key holds afterwards. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<string>;
  /**
   * One hit on a sliding-window log, decided atomically: hits older than `windowMs` are
   * dropped; if fewer than `limit` remain, this hit is recorded and allowed, otherwise it is
   * refused and not recorded. However many callers (and processes) hit one key at once,
   * exactly `limit` are allowed per window. The key expires `windowMs` after its newest hit.
   */
  hit(key: string, windowMs: number, limit: number): Promise<HitResult>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The outcome of `SharedStore.hit`. */
export interface HitResult {
  allowed: boolean;
  /** Hits in the window after this call: including this one when allowed, without it when refused. */
  count: number;
  /** When refused, how long until the oldest hit leaves the window (> 0); 0 when allowed. */
  retryAfterMs: number;
}

/** Both stores refuse the same nonsense: a window is a whole number of ms, a limit at least 1. */
export function assertHitArguments(windowMs: number, limit: number): void {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new RangeError(`hit: windowMs must be a positive whole number of milliseconds, got ${windowMs}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`hit: limit must be a whole number >= 1, got ${limit}`);
  }
}
