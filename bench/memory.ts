/** Resident memory of a process, from /proc (Linux); undefined elsewhere. */
import fs from "node:fs";

export function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export const formatMb = (mb: number | undefined) => (mb === undefined ? "n/a" : `${mb.toFixed(0)} MB`);
