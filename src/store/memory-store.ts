import { EventEmitter } from "node:events";
import type { Clock } from "../clock";
import { assertHitArguments, type HitResult, type SharedStore } from "./shared-store";

interface Entry {
  value: string;
  expiresAt: number;
}

/** A sliding-window log: hit times (clock ms, ascending while the clock moves forward). */
interface HitLog {
  hits: number[];
  expiresAt: number;
}

/** The embedded store: one process, so a Map is as atomic as Redis is for many. */
export function createMemoryStore(clock: Clock): SharedStore {
  const entries = new Map<string, Entry>();
  const hitLogs = new Map<string, HitLog>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  function read(key: string): string | null {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= clock.now().getTime()) {
      entries.delete(key);
      return null;
    }
    return entry.value;
  }

  const sweep = setInterval(() => {
    const now = clock.now().getTime();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    for (const [key, log] of hitLogs) if (log.expiresAt <= now) hitLogs.delete(key);
  }, 60_000);
  sweep.unref();

  return {
    kind: "memory",
    async mget(keys) {
      return keys.map(read);
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs });
    },
    async setIfAbsent(key, value, ttlMs) {
      const existing = read(key);
      if (existing !== null) return existing;
      entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs });
      return value;
    },
    async hit(key, windowMs, limit) {
      assertHitArguments(windowMs, limit);
      // No await from here on: read, decide and write happen in one turn of the event loop.
      return hitSlidingWindow(hitLogs, key, clock.now().getTime(), windowMs, limit);
    },
    async publish(channel, message) {
      queueMicrotask(() => bus.emit(channel, message));
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
    },
    async ping() {},
    async close() {
      clearInterval(sweep);
      bus.removeAllListeners();
      entries.clear();
      hitLogs.clear();
    },
  };
}

/** The same decision as the Redis script (redis-store.ts), on a Map, synchronously. */
function hitSlidingWindow(
  logs: Map<string, HitLog>,
  key: string,
  now: number,
  windowMs: number,
  limit: number,
): HitResult {
  const log = logs.get(key);
  const hits = log && log.expiresAt > now ? log.hits.filter((at) => at > now - windowMs) : [];
  if (hits.length < limit) {
    hits.push(now);
    logs.set(key, { hits, expiresAt: now + windowMs });
    return { allowed: true, count: hits.length, retryAfterMs: 0 };
  }
  // Refused: not recorded, and the expiry still follows the newest recorded hit.
  logs.set(key, { hits, expiresAt: (log as HitLog).expiresAt });
  const oldest = hits.reduce((a, b) => Math.min(a, b));
  return { allowed: false, count: hits.length, retryAfterMs: oldest + windowMs - now };
}
