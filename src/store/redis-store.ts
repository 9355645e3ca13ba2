import crypto from "node:crypto";
import { Redis } from "ioredis";
import { BackingServiceError } from "../errors/backing-service";
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

/** Reply errors that mean Redis cannot serve right now (loading, failover, memory, busy script). */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS)\b/;

/**
 * Any failure of a command as the store's caller must see it: an outage is a typed
 * `BackingServiceError` (timeout or unreachable), so every path answers SERVICE_UNAVAILABLE;
 * other reply errors (a bug of ours, like WRONGTYPE) pass unchanged.
 */
function typed(error: unknown): unknown {
  if (error instanceof BackingServiceError) return error;
  const message = error instanceof Error ? error.message : "";
  if (error instanceof Error && error.name === "ReplyError" && !UNAVAILABLE_REPLY.test(message)) return error;
  const kind = /timed? ?out/i.test(message) ? "timeout" : "unreachable";
  return new BackingServiceError("redis", kind, { cause: error });
}

/**
 * Redis-backed store. Every call has one deadline (`timeoutMs`, REDIS_TIMEOUT) covering the
 * wait for a connection and the command itself; past it the call fails as a timeout, so a
 * Redis that stops answering (paused, overloaded, a half-open connection) costs a request at
 * most that long instead of hanging it. Without a connection (Redis down, between
 * reconnection attempts) calls fail at once as unreachable: commands are never queued
 * offline. ioredis reconnects in the background, so the store recovers by itself.
 */
export function createRedisStore(url: string, options: { keyPrefix?: string; timeoutMs?: number } = {}): SharedStore {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const redisOptions = {
    keyPrefix: options.keyPrefix ?? "ais:",
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    enableAutoPipelining: true,
    lazyConnect: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
  };
  const client = new Redis(url, redisOptions) as ScriptedRedis;
  client.defineCommand("slidingWindowHit", { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
  let subscriber: Redis | undefined;
  const handlers = new Map<string, ((message: string) => void)[]>();
  client.on("error", () => undefined);

  /** Resolves once the client is ready; fails fast while it waits to reconnect after a failure. */
  function ready(): Promise<void> {
    if (client.status === "ready") return Promise.resolve();
    if (client.status === "reconnecting" || client.status === "end" || client.status === "close") {
      return Promise.reject(new BackingServiceError("redis", "unreachable"));
    }
    return new Promise<void>((resolve, reject) => {
      const onReady = () => {
        client.off("close", onClose);
        resolve();
      };
      const onClose = () => {
        client.off("ready", onReady);
        reject(new BackingServiceError("redis", "unreachable"));
      };
      client.once("ready", onReady);
      client.once("close", onClose);
    });
  }

  /** One deadline over connection wait and command; every outage typed (see `typed`). */
  async function call<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new BackingServiceError("redis", "timeout")), timeoutMs);
    });
    try {
      return await Promise.race([ready().then(command), deadline]);
    } catch (error) {
      throw typed(error);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: "redis",
    async mget(keys) {
      if (keys.length === 0) return [];
      return call(() => client.mget(keys));
    },
    async set(key, value, ttlMs) {
      await call(() => client.set(key, value, "PX", ttlMs));
    },
    async setIfAbsent(key, value, ttlMs) {
      const previous = await call(() => client.set(key, value, "PX", ttlMs, "NX", "GET"));
      return previous ?? value;
    },
    async hit(key, windowMs, limit) {
      assertHitArguments(windowMs, limit);
      const nonce = crypto.randomBytes(8).toString("hex");
      const [allowed, count, retryAfterMs] = await call(() => client.slidingWindowHit(key, windowMs, limit, nonce));
      return { allowed: allowed === 1, count, retryAfterMs };
    },
    async publish(channel, message) {
      await call(() => client.publish(`${redisOptions.keyPrefix}${channel}`, message));
    },
    async subscribe(channel, handler) {
      const fullChannel = `${redisOptions.keyPrefix}${channel}`;
      if (!subscriber) {
        // Subscriptions must survive reconnects, so this connection queues while offline.
        subscriber = new Redis(url, { ...redisOptions, keyPrefix: undefined, enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: 1 });
        subscriber.on("error", () => undefined);
        subscriber.on("message", (name: string, message: string) => {
          for (const listener of handlers.get(name) ?? []) listener(message);
        });
      }
      handlers.set(fullChannel, [...(handlers.get(fullChannel) ?? []), handler]);
      await subscriber.subscribe(fullChannel);
    },
    async ping() {
      await call(() => client.ping());
    },
    async close() {
      // QUIT waits for Redis's answer; an unresponsive Redis must not hold up shutdown.
      const quit = Promise.allSettled([client.quit(), subscriber?.quit()]);
      await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
      client.disconnect();
      subscriber?.disconnect();
    },
  };
}
