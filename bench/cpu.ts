/**
 * CPU time spent by the server process and by PostgreSQL while a load runs, read from
 * /proc (Linux): with both on the same cores, it tells which side of a request costs what.
 * Elsewhere (no /proc) nothing is reported.
 */
import fs from "node:fs";

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux Node.js supports. */
const TICKS_PER_S = 100;

function ticksOf(pid: number): number {
  try {
    // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface CpuSplit {
  /** CPU µs per request: the server process (or processes), and every PostgreSQL process together. */
  serverUs: number;
  postgresUs: number;
}

/**
 * Starts counting; the returned function ends it and divides by the requests served. Several
 * server pids (processes sharing one PostgreSQL) are counted together.
 */
export function startCpuCount(serverPid: number | readonly number[] | undefined): ((requests: number) => CpuSplit | undefined) | undefined {
  const servers = serverPid === undefined ? [] : typeof serverPid === "number" ? [serverPid] : serverPid;
  if (servers.length === 0 || !fs.existsSync("/proc/self/stat")) return undefined;
  const serverTicks = () => servers.reduce((sum, pid) => sum + ticksOf(pid), 0);
  // A backend that exits during the load takes its ticks with it: the bench's connections
  // are pooled and stay open, so this undercounts only the short-lived ones.
  const before = new Map(postgresPids().map((pid) => [pid, ticksOf(pid)]));
  const serverBefore = serverTicks();
  return (requests) => {
    if (requests <= 0) return undefined;
    let postgresTicks = 0;
    for (const pid of postgresPids()) postgresTicks += ticksOf(pid) - (before.get(pid) ?? 0);
    const perRequestUs = (ticks: number) => (ticks / TICKS_PER_S / requests) * 1e6;
    return { serverUs: perRequestUs(serverTicks() - serverBefore), postgresUs: perRequestUs(postgresTicks) };
  };
}
