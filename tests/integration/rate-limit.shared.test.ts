import "reflect-metadata";
import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { graphql, type ExecutionResult, type GraphQLSchema } from "graphql";
import { Redis } from "ioredis";
import { Arg, buildSchema, Field, InputType, Mutation, Query, Resolver } from "type-graphql";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { systemClock } from "../../src/clock";
import { PROJECT_ROOT } from "../../src/paths";
import { createRateLimiter, RateLimit, type RateLimiter } from "../../src/rate-limit/rate-limit";
import { createMemoryStore } from "../../src/store/memory-store";
import { createRedisStore } from "../../src/store/redis-store";
import type { SharedStore } from "../../src/store/shared-store";
import { REDIS_URL, uniqueRedisPrefix } from "../support/backend";

/**
 * Rate limits must hold exactly however the hits arrive: many at once in one process, on
 * several connections, from several OS processes, and through GraphQL aliases. Runs against
 * the real Redis (TEST_REDIS_URL); the in-process store gets the same concurrency checks.
 * This file runs with the shared backends only (TEST_BACKEND=postgres: see vitest.config.mts),
 * where Redis is required.
 */

let redisUp = false;
const prefixes: string[] = [];
const opened: SharedStore[] = [];

function redisStore(prefix = uniqueRedisPrefix()): SharedStore {
  prefixes.push(prefix);
  const store = createRedisStore(REDIS_URL, { keyPrefix: prefix });
  opened.push(store);
  return store;
}

function memoryStore(): SharedStore {
  const store = createMemoryStore(systemClock);
  opened.push(store);
  return store;
}

/** Redis is required here: its absence fails the run rather than skipping anything. */
function needRedis(_ctx: TestContext): void {
  if (!redisUp) throw new Error(`Redis at ${REDIS_URL} is required`);
}

beforeAll(async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    redisUp = true;
  } catch (error) {
    throw new Error(`Redis at ${REDIS_URL} is required`, { cause: error });
  } finally {
    probe.disconnect();
  }
});

afterAll(async () => {
  await Promise.allSettled(opened.map((store) => store.close()));
  if (!redisUp) return;
  const admin = new Redis(REDIS_URL);
  try {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
  } finally {
    admin.disconnect();
  }
});

const STORES = [
  { kind: "memory", open: memoryStore },
  { kind: "redis", open: () => redisStore() },
] as const;

describe.each(STORES)("$kind store: hit under concurrency", ({ kind, open }) => {
  const guard = (ctx: TestContext) => {
    if (kind === "redis") needRedis(ctx);
  };

  it("50 concurrent hits at a limit of 10 allow exactly 10, in each of 5 runs", async (ctx) => {
    guard(ctx);
    const store = open();
    for (let run = 0; run < 5; run += 1) {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.hit(`burst:${run}`, 60_000, 10)));
      const allowed = results.filter((result) => result.allowed);
      expect(allowed).toHaveLength(10);
      expect(allowed.map((result) => result.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const refused of results.filter((result) => !result.allowed)) {
        expect(refused.count).toBe(10);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
    }
  });

  it("slides in real time: a refused caller that waits retryAfterMs gets through", async (ctx) => {
    guard(ctx);
    const store = open();
    expect((await store.hit("slide", 400, 2)).allowed).toBe(true);
    expect((await store.hit("slide", 400, 2)).allowed).toBe(true);
    const refused = await store.hit("slide", 400, 2);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(400);
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 15));
    expect(await store.hit("slide", 400, 2)).toMatchObject({ allowed: true });
  });
});

describe("redis store: hit across connections and processes", () => {
  it("keeps its log as one sorted set under the store's key prefix, expiring with the window", async (ctx) => {
    needRedis(ctx);
    const prefix = uniqueRedisPrefix();
    const store = redisStore(prefix);
    await Promise.all(Array.from({ length: 5 }, () => store.hit("shape", 30_000, 3)));
    const admin = new Redis(REDIS_URL);
    try {
      expect(await admin.type(`${prefix}shape`)).toBe("zset");
      expect(await admin.zcard(`${prefix}shape`)).toBe(3);
      const ttl = await admin.pttl(`${prefix}shape`);
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      expect(await admin.exists("shape")).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  it("two stores on two connections (as two processes) allow exactly the limit in total, in each of 5 runs", async (ctx) => {
    needRedis(ctx);
    const prefix = uniqueRedisPrefix();
    const first = redisStore(prefix);
    const second = redisStore(prefix);
    for (let run = 0; run < 5; run += 1) {
      const key = `shared:${run}`;
      const results = await Promise.all(
        Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? first : second).hit(key, 60_000, 15)),
      );
      expect(results.filter((result) => result.allowed)).toHaveLength(15);
      const fromEach = [0, 1].map((side) => results.filter((result, i) => i % 2 === side && result.allowed).length);
      expect(fromEach[0]! + fromEach[1]!).toBe(15);
    }
  });

  it("three OS processes firing 30 concurrent hits each at a limit of 25 allow exactly 25, in each of 3 runs", async (ctx) => {
    needRedis(ctx);
    const childScript = compileChildScript();
    try {
      const prefix = uniqueRedisPrefix();
      prefixes.push(prefix);
      for (let run = 0; run < 3; run += 1) {
        const key = `processes:${run}`;
        const allowed = await runChildren(childScript, 3, { KEY_PREFIX: prefix, KEY: key, HITS: "30", LIMIT: "25", WINDOW_MS: "60000" });
        expect(allowed.reduce((sum, n) => sum + n, 0)).toBe(25);
        const admin = new Redis(REDIS_URL);
        try {
          expect(await admin.zcard(`${prefix}${key}`)).toBe(25);
        } finally {
          admin.disconnect();
        }
      }
    } finally {
      fs.rmSync(childScript.outDir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Compiles tests/support/rate-limit-hit.child.ts and the project files it imports (the real
 * Redis store) with the project's compiler options into a temporary folder, file by file
 * (`transpileModule`: a whole-program emit would type-check ~200 files first). The children
 * run the same compiled store as production, whatever state `dist/` is in; packages resolve
 * from the project's node_modules through NODE_PATH.
 */
function compileChildScript(): { outDir: string; entry: string } {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-rate-limit-child-"));
  const config = ts.readConfigFile(path.join(PROJECT_ROOT, "tsconfig.json"), (file) => ts.sys.readFile(file));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, PROJECT_ROOT);
  // What `nodenext` emits for this CommonJS package, stated outright: a single file has no package.json to read.
  const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, declaration: false };
  const entry = path.join(PROJECT_ROOT, "tests/support/rate-limit-hit.child.ts");
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), { compilerOptions, fileName: file });
    const target = path.join(outDir, path.relative(PROJECT_ROOT, file)).replace(/\.ts$/, ".js");
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
    for (const [, specifier] of outputText.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      pending.push(`${path.resolve(path.dirname(file), specifier!)}.ts`);
    }
  }
  return { outDir, entry: path.join(outDir, "tests/support/rate-limit-hit.child.js") };
}

/** Forks `count` children, starts them together once all are connected, returns each one's allowed count. */
async function runChildren(script: { entry: string }, count: number, env: Record<string, string>): Promise<number[]> {
  const children = Array.from({ length: count }, () =>
    fork(script.entry, [], {
      execArgv: [],
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(PROJECT_ROOT, "node_modules"), REDIS_URL, ...env },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    }),
  );
  const stderr = children.map(() => [] as string[]);
  children.forEach((child, i) => child.stderr?.on("data", (chunk: Buffer) => stderr[i]!.push(chunk.toString())));
  const messages = children.map((child, i) => {
    const queue: unknown[] = [];
    const waiters: ((message: unknown) => void)[] = [];
    child.on("message", (message) => (waiters.length > 0 ? waiters.shift()!(message) : queue.push(message)));
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => {
        if (code !== 0) reject(new Error(`child ${i} exited with ${code}: ${stderr[i]!.join("")}`));
      }),
    );
    return () =>
      Promise.race([
        queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise<unknown>((resolve) => waiters.push(resolve)),
        exited,
      ]);
  });
  try {
    await Promise.all(messages.map((next) => next()));
    for (const child of children) child.send({ go: true });
    const reports = (await Promise.all(messages.map((next) => next()))) as { allowed: number; refused: number }[];
    reports.forEach((report) => expect(report.allowed + report.refused).toBe(Number(env.HITS)));
    return reports.map((report) => report.allowed);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

// --- the @RateLimit decorator on a real type-graphql schema --------------------------------

const resolved = { attempt: 0, signIn: 0, ping: 0 };

@InputType()
class SignInInput {
  @Field(() => String)
  identifier!: string;
}

@Resolver()
class LimitedResolver {
  @Query(() => String, { nullable: true })
  @RateLimit({ name: "lookup", window: "1m", max: 5, by: "ip+field" })
  ping(): string {
    resolved.ping += 1;
    return "pong";
  }

  @Query(() => String, { nullable: true })
  @RateLimit({ name: "lookup", window: "1m", max: 5, by: "ip+field" })
  echo(): string {
    return "echo";
  }

  @Mutation(() => String, { nullable: true })
  @RateLimit({ name: "attempts", window: "1m", max: 5, by: "ip" })
  attempt(): string {
    resolved.attempt += 1;
    return "done";
  }

  @RateLimit({ name: "attempts", window: "1m", max: 5, by: "ip" })
  @Mutation(() => String, { nullable: true })
  attemptAgain(): string {
    return "done again";
  }

  @Mutation(() => String, { nullable: true })
  @RateLimit(
    { name: "sign-in-ip", window: "1m", max: 4, by: "ip" },
    { name: "sign-in-identifier", window: "1m", max: 2, by: (args: { input?: SignInInput }) => args.input?.identifier.toLowerCase() },
  )
  signIn(@Arg("input", () => SignInInput, { nullable: true }) input: SignInInput | undefined): string {
    resolved.signIn += 1;
    return input?.identifier ?? "anonymous";
  }

  @Mutation(() => String, { nullable: true })
  @RateLimit({ name: "typo", window: "soonish", max: 5, by: "ip" })
  misconfigured(): string {
    return "never";
  }
}

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildSchema({ resolvers: [LimitedResolver], validate: false });
});

function contextFor(rateLimiter: RateLimiter, ip: string | null = "203.0.113.7") {
  return { meta: { requestId: "test", ip, userAgent: null }, rateLimiter };
}

function aliased(operation: "query" | "mutation", field: string, times: number, args = ""): string {
  return `${operation} { ${Array.from({ length: times }, (_, i) => `a${i}: ${field}${args}`).join(" ")} }`;
}

function succeeded(result: ExecutionResult): number {
  return Object.values(result.data ?? {}).filter((value) => value !== null).length;
}

function codes(result: ExecutionResult): string[] {
  return (result.errors ?? []).map((error) => String(error.extensions.code));
}

describe.each(STORES)("@RateLimit on a type-graphql schema ($kind store)", ({ kind, open }) => {
  const setup = (ctx: TestContext) => {
    if (kind === "redis") needRedis(ctx);
    for (const name of Object.keys(resolved) as (keyof typeof resolved)[]) resolved[name] = 0;
    return createRateLimiter(open());
  };
  const run = (source: string, contextValue: unknown, variableValues?: Record<string, unknown>) =>
    graphql({ schema, source, contextValue, variableValues });

  it("a mutation aliased 20 times with max 5: exactly 5 run, 15 are RATE_LIMITED with retryAfter", async (ctx) => {
    const limiter = setup(ctx);
    const result = await run(aliased("mutation", "attempt", 20), contextFor(limiter));
    expect(succeeded(result)).toBe(5);
    expect(resolved.attempt).toBe(5);
    expect(codes(result)).toEqual(Array(15).fill("RATE_LIMITED"));
    for (const error of result.errors ?? []) {
      const retryAfter = error.extensions.retryAfter as number;
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(59);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(error.message).toBe(`Too many requests; retry in ${retryAfter} s`);
      expect(error.extensions).toEqual({ code: "RATE_LIMITED", retryAfter });
    }
    // The aliases that ran are the first five: mutations run one after another.
    expect(Object.entries(result.data ?? {}).filter(([, value]) => value !== null).map(([alias]) => alias)).toEqual([
      "a0",
      "a1",
      "a2",
      "a3",
      "a4",
    ]);
  });

  it("a query field aliased 20 times (resolved concurrently) with max 5: exactly 5 run", async (ctx) => {
    const limiter = setup(ctx);
    const result = await run(aliased("query", "ping", 20), contextFor(limiter));
    expect(succeeded(result)).toBe(5);
    expect(resolved.ping).toBe(5);
    expect(codes(result)).toEqual(Array(15).fill("RATE_LIMITED"));
  });

  it("counts across requests, and per ip", async (ctx) => {
    const limiter = setup(ctx);
    for (let i = 0; i < 5; i += 1) expect(succeeded(await run("mutation { attempt }", contextFor(limiter)))).toBe(1);
    expect(codes(await run("mutation { attempt }", contextFor(limiter)))).toEqual(["RATE_LIMITED"]);
    expect(succeeded(await run("mutation { attempt }", contextFor(limiter, "198.51.100.1")))).toBe(1);
  });

  it('"ip" shares one counter between fields using the rule name; "ip+field" counts each field apart', async (ctx) => {
    const limiter = setup(ctx);
    const shared = await run(
      "mutation { a0: attempt a1: attempt a2: attempt b0: attemptAgain b1: attemptAgain b2: attemptAgain }",
      contextFor(limiter),
    );
    expect(succeeded(shared)).toBe(5);
    expect(shared.errors?.map((error) => error.path?.[0])).toEqual(["b2"]);
    const perField = await run(
      "query { p0: ping p1: ping p2: ping p3: ping p4: ping p5: ping e0: echo e1: echo e2: echo e3: echo e4: echo e5: echo }",
      contextFor(limiter),
    );
    expect(succeeded(perField)).toBe(10);
    expect(perField.errors?.map((error) => error.path?.[0])).toEqual(expect.arrayContaining(["p5", "e5"]));
  });

  it("checks every rule in order: an identifier rule keyed by the lower-cased argument, skipped when it returns undefined", async (ctx) => {
    const limiter = setup(ctx);
    const signIn = "mutation ($input: SignInInput) { signIn(input: $input) }";
    // Two tries for one identifier, however it is cased; the third is refused by the identifier rule.
    expect(succeeded(await run(signIn, contextFor(limiter), { input: { identifier: "Ada@Example.com" } }))).toBe(1);
    expect(succeeded(await run(signIn, contextFor(limiter), { input: { identifier: "ada@example.COM" } }))).toBe(1);
    expect(codes(await run(signIn, contextFor(limiter), { input: { identifier: "ADA@example.com" } }))).toEqual(["RATE_LIMITED"]);
    // The ip rule counted all three (it comes first): one more call from this ip is allowed, with the
    // identifier rule skipped (no input), then the ip rule refuses whatever the identifier.
    expect(succeeded(await run(signIn, contextFor(limiter)))).toBe(1);
    expect(codes(await run(signIn, contextFor(limiter), { input: { identifier: "grace@example.com" } }))).toEqual(["RATE_LIMITED"]);
    // A refusal by the ip rule does not count against the identifier rule.
    expect(succeeded(await run(signIn, contextFor(limiter, "198.51.100.2"), { input: { identifier: "grace@example.com" } }))).toBe(1);
    expect(succeeded(await run(signIn, contextFor(limiter, "198.51.100.2"), { input: { identifier: "grace@example.com" } }))).toBe(1);
    expect(resolved.signIn).toBe(5);
  });

  it("requests without an ip share one counter rather than going unlimited", async (ctx) => {
    const limiter = setup(ctx);
    const result = await run(aliased("mutation", "attempt", 7), contextFor(limiter, null));
    expect(succeeded(result)).toBe(5);
  });

  it("a window graphql-rate-limit cannot parse fails closed with an internal error", async (ctx) => {
    const limiter = setup(ctx);
    const result = await run("mutation { misconfigured }", contextFor(limiter));
    expect(result.data).toEqual({ misconfigured: null });
    expect(result.errors?.[0]?.message).toMatch(/window "soonish" is not a duration/);
    expect(result.errors?.[0]?.extensions.code).toBeUndefined();
  });
});

describe("@RateLimit declaration", () => {
  it("refuses bad rules when the class is decorated", () => {
    expect(() => RateLimit()).toThrow(/at least one rule/);
    expect(() => RateLimit({ name: "x", window: "1m", max: 0, by: "ip" })).toThrow(/max/);
    expect(() => RateLimit({ name: "x", window: "", max: 1, by: "ip" })).toThrow(/window/);
    expect(() => RateLimit({ name: "bad name", window: "1m", max: 1, by: "ip" })).toThrow(/name/);
  });
});
