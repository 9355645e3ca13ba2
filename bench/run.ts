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
import { benchAgentActions, benchDecisionProcesses, benchPolicyScale, formatPolicyScale } from "./agent-actions";
import { formatMb, residentMb } from "./memory";
import { benchUserScale, formatScale } from "./scale";
import { benchAuditScale } from "./audit-scale";
import { compareEvaluators, formatComparison } from "./evaluator-compare";
import { evaluatorScale, formatEvaluatorScale } from "./evaluator-scale";
import { closedLoop, DURATION_S, load, median, ROUNDS, type Measured } from "./measure";
import { createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../tests/support/backend";
import { startServerCommand } from "../tests/support/server-process";
import { PROJECT_ROOT } from "../src/paths";

const BCRYPT_COST = Number(process.env.BENCH_BCRYPT_COST ?? 12);
/**
 * BENCH_ONLY=actions,evaluator runs only those sections (identity, login, actions, processes
 * (with actions), policies (with actions), memory, scale, audit, evaluator).
 */
const ONLY = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
const wanted = (section: string) => !ONLY || ONLY.includes(section);
/** Concurrent logins: a little more than the libuv pool (4 threads) so bcrypt never idles. */
const LOGIN_WORKERS = 6;

/**
 * The Node flags `npm start` (and the image) give the server, read from package.json: every
 * server the bench starts, the bare Apollo floor included, runs with them, so the figures are
 * the shipped server's and the comparison stays like for like.
 */
const NODE_FLAGS: string[] = (() => {
  const start = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.start ?? "";
  return start.split(/\s+/).filter((word) => word.startsWith("--"));
})();

/** bcrypt alone: verifies per second with the libuv pool (4 threads) busy on every core. */
async function bcryptCeiling(): Promise<Measured> {
  const stored = await hash("bench-password-123", BCRYPT_COST);
  return closedLoop(`bcrypt verify alone (cost ${BCRYPT_COST})`, LOGIN_WORKERS, async () => {
    await verify("bench-password-123", stored);
  });
}

/** CPU per request of the server and of PostgreSQL, where it was measured. */
function cpuColumns(row: Measured): string {
  if (!row.cpu) return "";
  return `   CPU/req: server ${row.cpu.serverUs.toFixed(0).padStart(4)} µs, PostgreSQL ${row.cpu.postgresUs.toFixed(0).padStart(4)} µs`;
}

/**
 * The embedded default's resident memory (PGlite runs inside the server process): at rest,
 * then after a load of registrations, sign-ins' `me` and bare queries.
 */
async function embeddedMemory(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-bench-embedded-"));
  const server = await startServerCommand(process.execPath, [...NODE_FLAGS, path.join(PROJECT_ROOT, "dist/src/main.js")], {
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    BCRYPT_COST: "4",
    RATE_LIMIT_SCALE: "1000000",
    NODE_ENV: "production",
  });
  try {
    const resting = residentMb(server.child.pid);
    const registered = await server.client.ok<{ register: { accessToken: string } }, unknown>(
      `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`,
      { input: { email: `memory-${Date.now()}@example.com`, password: "bench-password-123" } },
    );
    const body = (query: string) => JSON.stringify({ query });
    await load("embedded me", server.url, { body: body("{ me { id email } }"), headers: { authorization: `Bearer ${registered.register.accessToken}` } });
    await load("embedded bare", server.url, { body: body("{ __typename }") });
    return `${formatMb(resting)} at rest, ${formatMb(residentMb(server.child.pid))} after ${2 * DURATION_S}s of load`;
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (ONLY?.every((section) => section === "evaluator")) {
    process.stdout.write(`${formatComparison(await compareEvaluators())}\n${formatEvaluatorScale(evaluatorScale())}\n`);
    return;
  }
  const database = await createPostgresDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-bench-"));
  // BENCH_PROFILE_DIR=dir: the server writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE_DIR)}`] : [];
  const serverEnv = {
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
    MFA_REQUIRED_ROLES: "none",
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
  };
  const server = await startServerCommand(process.execPath, [...NODE_FLAGS, ...profile, path.join(PROJECT_ROOT, "dist/bench/floor-server.js")], serverEnv);
  const restingMb = residentMb(server.child.pid);
  try {
    const email = `bench-${Date.now()}@example.com`;
    const password = "bench-password-123";
    const registered = await server.client.ok<{ register: { accessToken: string; user: { id: string } } }, unknown>(
      `mutation ($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
      { input: { email, password } },
    );
    const token = registered.register.accessToken;
    /** A fresh access token of the bootstrap admin (a long section outlasts one). */
    const signInAdmin = async () =>
      (
        await server.client.ok<{ login: { accessToken: string } }, unknown>(
          "mutation ($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken } } }",
          { input: { identifier: serverEnv.BOOTSTRAP_ADMIN_EMAIL, password: serverEnv.BOOTSTRAP_ADMIN_PASSWORD } },
        )
      ).login.accessToken;
    const body = (query: string, variables?: unknown) => JSON.stringify({ query, variables });

    const rows: Measured[] = [];
    const ratios: string[] = [];
    if (wanted("identity")) {
      // The floor: a bare Apollo Server 5 in its own process. Alternate it and the measured
      // queries, and keep each one's median round: the machine's speed drifts within a run,
      // and all of them should see the same drift.
      const apollo = await startServerCommand(process.execPath, [...NODE_FLAGS, path.join(PROJECT_ROOT, "dist/bench/bare-apollo-server.js")], {});
      try {
        const apolloRounds: Measured[] = [];
        const bareRounds: Measured[] = [];
        const meRounds: Measured[] = [];
        for (let round = 0; round < ROUNDS; round += 1) {
          apolloRounds.push(await load("floor: bare Apollo Server 5 { __typename }", apollo.url, { body: body("{ __typename }") }, apollo.child.pid));
          bareRounds.push(await load("{ __typename }", server.url, { body: body("{ __typename }") }, server.child.pid));
          meRounds.push(
            await load("authenticated { me { id email } }", server.url, { body: body("{ me { id email } }"), headers: { authorization: `Bearer ${token}` } }, server.child.pid),
          );
        }
        const floor = median(apolloRounds);
        const bare = median(bareRounds);
        const me = median(meRounds);
        rows.push(floor, bare, me);
        ratios.push(`{ __typename } / bare Apollo         ${(bare.rps / floor.rps).toFixed(2)}   (target >= 0.7)`);
        ratios.push(`authenticated me / bare Apollo       ${(me.rps / floor.rps).toFixed(2)}   (target >= 0.6)`);
      } finally {
        await apollo.stop();
      }
    }
    if (wanted("login")) {
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
      rows.push(ceiling, login);
      ratios.push(`login / bcrypt ceiling              ${(login.rps / ceiling.rps).toFixed(2)}   (target >= 0.9)`);
    }
    let policyTable: string | undefined;
    if (wanted("actions")) {
      const adminToken = await signInAdmin();
      const result = await benchAgentActions(server, database.url, {
        adminToken: adminToken,
        ownerToken: token,
        ownerId: registered.register.user.id,
      });
      rows.push(result.floor, result.actions, result.limited);
      ratios.push(`agent action decisions / one INSERT  ${(result.actions.rps / result.floor.rps).toFixed(2)}   (target >= 1.0; p99 ${result.actions.p99.toFixed(1)} ms vs ${result.floor.p99.toFixed(1)} ms)`);
      ratios.push(`  with run, pattern and velocity caps ${(result.limited.rps / result.floor.rps).toFixed(2)}   (target >= 1.0; p99 ${result.limited.p99.toFixed(1)} ms)`);
      ratios.push(`  recorded actions: ${result.recorded}, not ALLOWED: ${result.denied}`);
      if (wanted("processes")) {
        // Two more processes on the same PostgreSQL and Redis (data directories of their own).
        const extraDirs = [1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), "ais-bench-")));
        const extra = await Promise.all(
          extraDirs.map((dir) => startServerCommand(process.execPath, [...NODE_FLAGS, path.join(PROJECT_ROOT, "dist/bench/floor-server.js")], { ...serverEnv, DATA_DIR: dir })),
        );
        try {
          const scaling = await benchDecisionProcesses([server, ...extra], result.key);
          rows.push(...scaling);
          const single = scaling[0]!.rps;
          ratios.push(`decisions/s with 1, 2, 3 processes    ${scaling.map((row) => (row.rps / single).toFixed(2)).join(", ")}   (of one process; target >= 1.0)`);
        } finally {
          await Promise.all(extra.map((one) => one.stop()));
          for (const dir of extraDirs) fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      if (result.denied > 0) process.exitCode = 1;
      if (wanted("policies")) policyTable = formatPolicyScale(await benchPolicyScale(server, database.url, adminToken, result.key));
    }
    // Last: it fills the database, which the sections above should not see.
    let scaleTable: string | undefined;
    if (wanted("scale")) {
      const adminToken = await signInAdmin();
      scaleTable = formatScale(await benchUserScale(server, database.url, adminToken, { identifier: email, password }));
    }
    let auditTable: string | undefined;
    if (wanted("audit")) {
      auditTable = formatScale(await benchAuditScale(server, database.url, signInAdmin), "events");
    }
    const width = Math.max(0, ...rows.map((row) => row.name.length));
    process.stdout.write(`\nbench: ${DURATION_S}s each, ${os.availableParallelism()} cores, PostgreSQL + Redis\n`);
    for (const row of rows) {
      process.stdout.write(
        `  ${row.name.padEnd(width)}  ${row.rps.toFixed(1).padStart(9)} req/s   p99 ${row.p99.toFixed(1).padStart(6)} ms${cpuColumns(row)}${row.perBatch ? `   ${row.perBatch.toFixed(1)} decisions a transaction` : ""}${row.errors ? `   errors ${row.errors}` : ""}\n`,
      );
    }
    process.stdout.write(`\n${ratios.map((line) => `  ${line}`).join("\n")}\n\n`);
    process.stdout.write(`  resident memory, PostgreSQL + Redis: ${formatMb(restingMb)} at rest, ${formatMb(residentMb(server.child.pid))} after the loads above\n`);
    if (wanted("memory")) process.stdout.write(`  resident memory, embedded (PGlite): ${await embeddedMemory()}\n`);
    if (scaleTable) process.stdout.write(`\nscale (one request at a time):\n${scaleTable}\n`);
    if (policyTable) process.stdout.write(`\n${policyTable}\n`);
    if (auditTable) process.stdout.write(`\naudit trail scale (one request at a time):\n${auditTable}\n`);
    process.stdout.write("\n");
    if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
  } finally {
    await server.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  // In-process and CPU-bound: after the server is gone, so nothing competes with it.
  if (wanted("evaluator")) process.stdout.write(`${formatComparison(await compareEvaluators())}\n${formatEvaluatorScale(evaluatorScale())}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
