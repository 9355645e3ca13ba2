/**
 * `npm run bench`: throughput and latency of the hot paths, each as a ratio against a floor
 * measured in the same run on the same machine (absolute numbers drift between runs and
 * machines; ratios are what we compare). The server runs as its own process on PostgreSQL +
 * Redis, as in production; autocannon drives it over HTTP from this process.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hash, verify } from "@node-rs/bcrypt";
import autocannon from "autocannon";
import { createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../tests/support/backend";
import { startServerProcess } from "../tests/support/server-process";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
const BCRYPT_COST = Number(process.env.BENCH_BCRYPT_COST ?? 12);
const CONNECTIONS = 50;
const ROUNDS = 3;

function median(rounds: Measured[]): Measured {
  const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
  const middle = sorted[Math.floor(sorted.length / 2)] as Measured;
  return { ...middle, errors: rounds.reduce((sum, round) => sum + round.errors, 0) };
}

/** Concurrent logins: a little more than the libuv pool (4 threads) so bcrypt never idles. */
const LOGIN_WORKERS = 6;

interface Measured {
  name: string;
  rps: number;
  p99: number;
  errors: number;
}

/** Runs a load once to warm the JIT and the connections, then again to measure. */
async function load(name: string, url: string, options: Partial<autocannon.Options>): Promise<Measured> {
  const run = (duration: number) =>
    autocannon({
      url: `${url}/graphql`,
      method: "POST",
      connections: CONNECTIONS,
      ...options,
      duration,
      headers: { "content-type": "application/json", ...options.headers },
    });
  await run(WARMUP_S);
  const result = await run(DURATION_S);
  const errors = result.errors + result.timeouts + result.non2xx;
  return { name, rps: result.requests.average, p99: result.latency.p99, errors };
}

/**
 * A closed loop of `workers` callers, each starting its next call when the last one ends.
 * Throughput is completed calls over the time until the last one finished, so slow calls
 * still running at the deadline are neither lost nor counted for free.
 */
async function closedLoop(name: string, workers: number, call: () => Promise<void>): Promise<Measured> {
  const started = performance.now();
  const deadline = started + DURATION_S * 1000;
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        await call().catch(() => {
          errors += 1;
        });
        latencies.push(performance.now() - begun);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  return { name, rps: latencies.length / elapsedS, p99, errors };
}

/** bcrypt alone: verifies per second with the libuv pool (4 threads) busy on every core. */
async function bcryptCeiling(): Promise<Measured> {
  const stored = await hash("bench-password-123", BCRYPT_COST);
  return closedLoop(`bcrypt verify alone (cost ${BCRYPT_COST})`, LOGIN_WORKERS, async () => {
    await verify("bench-password-123", stored);
  });
}

async function main(): Promise<void> {
  const database = await createPostgresDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-bench-"));
  const server = await startServerProcess({
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    BCRYPT_COST: String(BCRYPT_COST),
    BOOTSTRAP_ADMIN_EMAIL: "bench-admin@example.com",
    BOOTSTRAP_ADMIN_PASSWORD: "bench-admin-password",
    NODE_ENV: "production",
    // The bench measures throughput, not the limits that protect it (they have their own tests).
    RATE_LIMIT_SCALE: "1000000",
  });
  try {
    const email = `bench-${Date.now()}@example.com`;
    const password = "bench-password-123";
    const registered = await server.client.ok<{ register: { accessToken: string } }, unknown>(
      `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`,
      { input: { email, password } },
    );
    const token = registered.register.accessToken;
    const body = (query: string, variables?: unknown) => JSON.stringify({ query, variables });

    // Alternate the floor and the measured query, and keep each one's median round: the
    // machine's speed drifts within a run, and both should see the same drift.
    const bareRounds: Measured[] = [];
    const meRounds: Measured[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      bareRounds.push(await load("bare { __typename }", server.url, { body: body("{ __typename }") }));
      meRounds.push(
        await load("authenticated { me { id email } }", server.url, {
          body: body("{ me { id email } }"),
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    }
    const bare = median(bareRounds);
    const me = median(meRounds);
    const ceiling = await bcryptCeiling();
    const loginBody = body(
      "mutation ($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken } } }",
      { input: { identifier: email, password } },
    );
    const login = await closedLoop("login (password check + session + audit)", LOGIN_WORKERS, async () => {
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: loginBody,
      });
      const result = (await response.json()) as { errors?: unknown };
      if (!response.ok || result.errors) throw new Error("login failed");
    });
    const rows = [bare, me, ceiling, login];
    const width = Math.max(...rows.map((row) => row.name.length));
    process.stdout.write(`\nbench: ${DURATION_S}s each, ${os.availableParallelism()} cores, PostgreSQL + Redis\n`);
    for (const row of rows) {
      process.stdout.write(
        `  ${row.name.padEnd(width)}  ${row.rps.toFixed(1).padStart(9)} req/s   p99 ${row.p99.toFixed(1).padStart(6)} ms${row.errors ? `   errors ${row.errors}` : ""}\n`,
      );
    }
    const meRatio = me.rps / bare.rps;
    const loginRatio = login.rps / ceiling.rps;
    process.stdout.write(`\n  me / bare query          ${meRatio.toFixed(2)}   (target >= 0.6)\n`);
    process.stdout.write(`  login / bcrypt ceiling   ${loginRatio.toFixed(2)}   (target >= 0.9)\n\n`);
    if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
  } finally {
    await server.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
