import fs from "node:fs";
import path from "node:path";

/**
 * The data directory of an embedded server: PGlite's files, generated keys, the outbox.
 * Private to the server's user (directories 0700, files 0600), and used by one server
 * process at a time: PGlite is a database in this process's memory, so a second process on
 * the same files would see only its own writes and lose the other's on the next start.
 */

/** A second server, or a concurrent start, holds the data directory: the start is refused. */
export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirInUseError";
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still this process's; idempotent. */
  release(): void;
}

const LOCK_FILE = "server.lock";
/** Locks this process holds: a lock naming our own pid but not held here is stale (a reused pid). */
const heldHere = new Set<string>();

/** Creates `dir` (0700) and fixes the modes of everything already in it: dirs 0700, files 0600. */
export function secureDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (target: string): void => {
    const stat = fs.lstatSync(target);
    if (stat.isSymbolicLink()) return;
    const wanted = stat.isDirectory() ? 0o700 : 0o600;
    if ((stat.mode & 0o777) !== wanted) fs.chmodSync(target, wanted);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) walk(path.join(target, entry));
  };
  walk(dir);
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates `file` holding our pid, atomically (O_EXCL); false when it exists. */
function create(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Removes a lock left by a dead process. Reclaimers take turns through a second O_EXCL file,
 * so two processes starting together on a stale lock cannot both remove it and both win.
 */
function reclaimStale(file: string, stalePid: number): void {
  const turn = `${file}.reclaim`;
  if (!create(turn)) {
    throw new DataDirInUseError(`Another process is starting on this data directory (${turn} exists; remove it if no server is starting)`);
  }
  try {
    if (readPid(file) === stalePid) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(turn, { force: true });
  }
}

/**
 * Takes `<dir>/server.lock` for this process, or throws DataDirInUseError naming the
 * holder's pid. A lock whose process is gone (a crash, a kill -9) is reclaimed.
 */
export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (create(file)) {
      heldHere.add(file);
      return {
        file,
        release() {
          if (!heldHere.delete(file)) return;
          if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
        },
      };
    }
    const holder = readPid(file);
    if (holder === undefined || pidAlive(holder) || heldHere.has(file)) {
      throw new DataDirInUseError(
        `DATA_DIR ${dir} is in use by another server process (pid ${holder ?? "starting"}, lock file ${file}). ` +
          "An embedded server owns its data directory alone: stop the other process, give this one its own DATA_DIR, " +
          "or use DATABASE_URL (PostgreSQL) to run several instances.",
      );
    }
    reclaimStale(file, holder);
  }
  throw new DataDirInUseError(`Could not take the lock ${file}: other processes keep taking it`);
}
