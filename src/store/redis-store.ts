import { Redis } from "ioredis";
import type { SharedStore } from "./shared-store";

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
  const client = new Redis(url, redisOptions);
  let subscriber: Redis | undefined;
  const handlers = new Map<string, ((message: string) => void)[]>();
  client.on("error", () => undefined);

  async function ready(redis: Redis): Promise<void> {
    if (redis.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("redis not ready")), 2_000);
      redis.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  return {
    kind: "redis",
    async mget(keys) {
      if (keys.length === 0) return [];
      await ready(client);
      return client.mget(keys);
    },
    async set(key, value, ttlMs) {
      await ready(client);
      await client.set(key, value, "PX", ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      await ready(client);
      const previous = await client.set(key, value, "PX", ttlMs, "NX", "GET");
      return previous ?? value;
    },
    async publish(channel, message) {
      await ready(client);
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
      await ready(client);
      await client.ping();
    },
    async close() {
      await Promise.allSettled([client.quit(), subscriber?.quit()]);
    },
  };
}
