import crypto from "node:crypto";
import { Redis } from "ioredis";
import { assertHitArguments, type SharedStore } from "./shared-store";

/**
 * `SharedStore.hit` as one script, so trim, count, decide and record run as one step for
 * every client of this Redis. KEYS[1]: the key's sorted set (score = hit time in ms);
 * ARGV: window ms, limit, a caller-drawn nonce that makes the member unique (hits in the
 * same millisecond must not collapse into one member, and `math.random` in a script is
 * seeded identically on every call).
 *
 * Time is Redis's own `TIME`, not the caller's: processes' clocks differ, and a window whose
 * entries were stamped by several skewed clocks would be trimmed early or late. One clock
 * keeps the window exact. (Calling `TIME` before writing needs effects replication: the
 * default since Redis 5, the only mode since 7.)
 *
 * Returns { allowed 1|0, count, retryAfterMs }.
 */
const SLIDING_WINDOW_HIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, count + 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, count, tonumber(oldest[2]) + window - now}
`;

/** The client with the script above defined on it (ioredis sends EVALSHA, EVAL on NOSCRIPT). */
type ScriptedRedis = Redis & {
  slidingWindowHit(key: string, windowMs: number, limit: number, nonce: string): Promise<[number, number, number]>;
};

/**
 * Redis-backed store. Commands fail fast while Redis is unreachable (no offline queue), so
 * callers fail closed instead of waiting; ioredis reconnects in the background.
 */
export function createRedisStore(url: string, options: { keyPrefix?: string } = {}): SharedStore {
  const redisOptions = {
    keyPrefix: options.keyPrefix ?? "ais:",
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    lazyConnect: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
  };
  const client = new Redis(url, redisOptions) as ScriptedRedis;
  client.defineCommand("slidingWindowHit", { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
  let subscriber: Redis | undefined;
  const handlers = new Map<string, ((message: string) => void)[]>();
  client.on("error", () => undefined);

  // Callers arriving while the connection comes up share one wait (one "ready" listener, not one each).
  let connecting: Promise<void> | undefined;
  async function ready(): Promise<void> {
    if (client.status === "ready") return;
    connecting ??= new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.off("ready", onReady);
        reject(new Error("redis not ready"));
      }, 2_000);
      client.once("ready", onReady);
    }).finally(() => {
      connecting = undefined;
    });
    await connecting;
  }

  return {
    kind: "redis",
    async mget(keys) {
      if (keys.length === 0) return [];
      await ready();
      return client.mget(keys);
    },
    async set(key, value, ttlMs) {
      await ready();
      await client.set(key, value, "PX", ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      await ready();
      const previous = await client.set(key, value, "PX", ttlMs, "NX", "GET");
      return previous ?? value;
    },
    async hit(key, windowMs, limit) {
      assertHitArguments(windowMs, limit);
      await ready();
      const nonce = crypto.randomBytes(8).toString("hex");
      const [allowed, count, retryAfterMs] = await client.slidingWindowHit(key, windowMs, limit, nonce);
      return { allowed: allowed === 1, count, retryAfterMs };
    },
    async publish(channel, message) {
      await ready();
      await client.publish(`${redisOptions.keyPrefix}${channel}`, message);
    },
    async subscribe(channel, handler) {
      const fullChannel = `${redisOptions.keyPrefix}${channel}`;
      if (!subscriber) {
        subscriber = new Redis(url, { ...redisOptions, keyPrefix: undefined, enableOfflineQueue: true });
        subscriber.on("error", () => undefined);
        subscriber.on("message", (name: string, message: string) => {
          for (const listener of handlers.get(name) ?? []) listener(message);
        });
      }
      handlers.set(fullChannel, [...(handlers.get(fullChannel) ?? []), handler]);
      await subscriber.subscribe(fullChannel);
    },
    async ping() {
      await ready();
      await client.ping();
    },
    async close() {
      await Promise.allSettled([client.quit(), subscriber?.quit()]);
    },
  };
}
