/** Load drivers and statistics shared by the benchmarks. */
import autocannon from "autocannon";
import { startCpuCount, type CpuSplit } from "./cpu";

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
export const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
export const ROUNDS = 3;

export function median(rounds: Measured[]): Measured {
  const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
  const middle = sorted[Math.floor(sorted.length / 2)] as Measured;
  return { ...middle, errors: rounds.reduce((sum, round) => sum + round.errors, 0) };
}

export interface Measured {
  name: string;
  rps: number;
  p99: number;
  errors: number;
  /** CPU per request of the server and of PostgreSQL (Linux only). */
  cpu?: CpuSplit;
  /** Agent action decisions per transaction that wrote them (group commit), when measured. */
  perBatch?: number;
}

/** One autocannon run of `duration` seconds against the server's GraphQL endpoint. */
function runLoad(url: string, options: Partial<autocannon.Options>, duration: number) {
  return autocannon({
    url: `${url}/graphql`,
    method: "POST",
    connections: CONNECTIONS,
    ...options,
    duration,
    headers: { "content-type": "application/json", ...options.headers },
  });
}

/**
 * Runs a load once to warm the JIT and the connections, then again to measure; with the
 * server's pid, also the CPU it and PostgreSQL spent per request.
 */
export function load(name: string, url: string, options: Partial<autocannon.Options>, serverPid?: number): Promise<Measured> {
  return loadCluster(name, [{ url, ...(serverPid === undefined ? {} : { pid: serverPid }) }], options);
}

/**
 * The same load against several server processes at once (one autocannon each, warmed and
 * measured together): their throughputs add up, the p99 is the worst one's, and the CPU is
 * that of all of them and PostgreSQL per request of the whole cluster.
 */
export async function loadCluster(name: string, servers: readonly { url: string; pid?: number }[], options: Partial<autocannon.Options>): Promise<Measured> {
  await Promise.all(servers.map((server) => runLoad(server.url, options, WARMUP_S)));
  const pids = servers.flatMap((server) => (server.pid === undefined ? [] : [server.pid]));
  const stopCount = startCpuCount(pids);
  const results = await Promise.all(servers.map((server) => runLoad(server.url, options, DURATION_S)));
  const cpu = stopCount?.(results.reduce((sum, result) => sum + result.requests.total, 0));
  return {
    name,
    rps: results.reduce((sum, result) => sum + result.requests.average, 0),
    p99: Math.max(...results.map((result) => result.latency.p99)),
    errors: results.reduce((sum, result) => sum + result.errors + result.timeouts + result.non2xx, 0),
    ...(cpu ? { cpu } : {}),
  };
}

/**
 * A closed loop of `workers` callers, each starting its next call when the last one ends.
 * Throughput is completed calls over the time until the last one finished, so slow calls
 * still running at the deadline are neither lost nor counted for free.
 */
export async function closedLoop(name: string, workers: number, call: () => Promise<void>): Promise<Measured> {
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
