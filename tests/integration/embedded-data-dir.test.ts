import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { startServerProcess, type ServerProcess } from "../support/server-process";

/**
 * An embedded server owns its DATA_DIR: a second process on it refuses to start (naming the
 * holder's pid), a lock left by a dead process is reclaimed, and what the first server
 * acknowledged is there after a restart. Everything in the directory is private to the
 * server's user, whatever the umask it was started with and whatever modes were there.
 */
let root: string;
let dataDir: string;
let first: ServerProcess | undefined;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "ais-datadir-"));
  dataDir = path.join(root, "data");
  // Left by an earlier run or by hand: readable and writable by everyone.
  fs.mkdirSync(path.join(dataDir, "outbox"), { recursive: true });
  fs.writeFileSync(path.join(dataDir, "outbox", "old.json"), "{}");
  fs.chmodSync(path.join(dataDir, "outbox", "old.json"), 0o666);
  fs.chmodSync(path.join(dataDir, "outbox"), 0o777);
  fs.chmodSync(dataDir, 0o755);
});

afterAll(async () => {
  await first?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Starts a server on `dataDir` under umask 0, so only the server's own care makes files private. */
async function startEmbedded(): Promise<ServerProcess> {
  const previous = process.umask(0);
  try {
    return await startServerProcess({ DATA_DIR: dataDir, BCRYPT_COST: "4", NEW_SIGN_IN_NOTICE: "true" }, 60_000);
  } finally {
    process.umask(previous);
  }
}

/** Every path under `dir` whose mode is not 0700 (directories) or 0600 (files). */
function notPrivate(dir: string): string[] {
  const found: string[] = [];
  const walk = (target: string) => {
    const stat = fs.lstatSync(target);
    if (stat.isSymbolicLink()) return;
    const wanted = stat.isDirectory() ? 0o700 : 0o600;
    if ((stat.mode & 0o777) !== wanted) found.push(`${path.relative(dir, target) || "."} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) walk(path.join(target, entry));
  };
  walk(dir);
  return found;
}

describe("an embedded server's data directory", () => {
  it("is private, owned by one process, reclaimed after a crash, and keeps acknowledged writes", async () => {
    first = await startEmbedded();
    const user = await registerUser(first.client);
    expect(fs.existsSync(path.join(dataDir, "server.lock"))).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, "pglite")).length).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(dataDir, "outbox")).length).toBeGreaterThan(1);
    expect(notPrivate(dataDir)).toEqual([]);

    // A second server on the same directory refuses to start, saying why and who holds it.
    const firstPid = fs.readFileSync(path.join(dataDir, "server.lock"), "utf8").trim();
    const refused = await startEmbedded().then(
      (second) => second.stop().then(() => "started"),
      (error: Error) => error.message,
    );
    expect(refused).toContain("server exited (1)");
    expect(refused).toContain(`DATA_DIR ${dataDir} is in use by another server process (pid ${firstPid}`);
    // The first server still serves, and nothing of the refused start touched it.
    expect((await first.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);

    // A clean stop releases the lock.
    expect(await first.stop()).toBe(0);
    first = undefined;
    expect(fs.existsSync(path.join(dataDir, "server.lock"))).toBe(false);

    // A lock left by a process that is gone (kill -9) does not block the next start.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    fs.writeFileSync(path.join(dataDir, "server.lock"), `${dead}\n`, { mode: 0o644 });
    first = await startEmbedded();
    expect(fs.readFileSync(path.join(dataDir, "server.lock"), "utf8").trim()).not.toBe(String(dead));
    // What the first server acknowledged is there.
    const again = await loginUser(first.client, user.user.email);
    expect((await first.client.ok(MeDocument, {}, { token: again.accessToken })).me?.id).toBe(user.user.id);
    expect(notPrivate(dataDir)).toEqual([]);
  }, 180_000);
});
