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
const BCRYPT_COST = Number(process.env.BENCH_BCRYPT_COST ?? 12);
const CONNECTIONS = 50;

interface Measured {
  name: string;
  rps: number;
  p99: number;
  errors: number;
}

async function load(name: string, url: string, options: Partial<autocannon.Options>): Promise<Measured> {
  const result = await autocannon({
    url: `${url}/graphql`,
    method: "POST",
    connections: CONNECTIONS,
    duration: DURATION_S,
    ...options,
    headers: { "content-type": "application/json", ...options.headers },
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return { name, rps: result.requests.average, p99: result.latency.p99, errors };
}

/** bcrypt alone: verifies per second with every core busy, the ceiling for logins. */
async function bcryptCeiling(): Promise<Measured> {
  const stored = await hash("bench-password-123", BCRYPT_COST);
  const workers = os.availableParallelism() * 2;
  const deadline = Date.now() + DURATION_S * 1000;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < deadline) {
        const started = performance.now();
        await verify("bench-password-123", stored);
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  return { name: `bcrypt verify alone (cost ${BCRYPT_COST})`, rps: latencies.length / DURATION_S, p99, errors: 0 };
}

async function main(): Promise<void> {
  const database = await createPostgresDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-bench-"));
  const server = await startServerProcess({
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    BCRYPT_COST: String(BCRYPT_COST),
    BOOTSTRAP_ADMIN_EMAIL: "bench-admin@example.com",
    BOOTSTRAP_ADMIN_PASSWORD: "bench-admin-password",
    NODE_ENV: "production",
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

    const bare = await load("bare { __typename }", server.url, { body: body("{ __typename }") });
    const me = await load("authenticated { me { id email } }", server.url, {
      body: body("{ me { id email } }"),
      headers: { authorization: `Bearer ${token}` },
    });
    const ceiling = await bcryptCeiling();
    const login = await load("login (password check + session + audit)", server.url, {
      connections: 16,
      body: body(
        "mutation ($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken } } }",
        { input: { identifier: email, password } },
      ),
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
