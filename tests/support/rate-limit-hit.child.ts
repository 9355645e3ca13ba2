import { createRedisStore } from "../../src/store/redis-store";

/**
 * A separate OS process hitting one rate-limit key, as another server process would: its
 * own ioredis connection, its own clock. Compiled and forked by
 * tests/integration/rate-limit-redis.test.ts (see compileChildScript).
 *
 * Env: REDIS_URL, KEY_PREFIX, KEY, HITS, LIMIT, WINDOW_MS. Protocol over IPC: sends
 * { ready: true } once connected, waits for { go: true } (so every child fires at once),
 * fires HITS concurrent hits, sends { allowed, refused } and exits.
 */
async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  };
  const store = createRedisStore(env("REDIS_URL"), { keyPrefix: env("KEY_PREFIX") });
  const send = (message: unknown) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));
  await store.ping();
  const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
  await send({ ready: true });
  await go;
  const results = await Promise.all(
    Array.from({ length: Number(env("HITS")) }, () => store.hit(env("KEY"), Number(env("WINDOW_MS")), Number(env("LIMIT")))),
  );
  const allowed = results.filter((result) => result.allowed).length;
  await send({ allowed, refused: results.length - allowed });
  await store.close();
  process.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
