import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LoginDocument } from "../generated/graphql";
import { registerUser } from "../support/fixtures";
import { within } from "../support/outage";
import { startServerCommand, type ServerProcess } from "../support/server-process";

/**
 * `npm start` as an operator (or a container runtime) runs it: SIGTERM to the npm process
 * reaches the server, which finishes the requests it has received (a login busy in bcrypt
 * included) and exits, leaving no orphan behind. (`--ignore-scripts` skips only the
 * `prestart` build: the suite has built already.)
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "ais-shutdown-"));
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The server's own pid, from its log lines (npm is the parent process). */
function serverPid(logs: string[]): number {
  for (const line of logs) {
    try {
      const entry = JSON.parse(line) as { msg?: string; pid?: number };
      if (entry.msg?.startsWith("listening") && entry.pid) return entry.pid;
    } catch {
      // npm's own lines
    }
  }
  throw new Error(`no "listening" line with a pid:\n${logs.join("\n")}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("SIGTERM to npm start", () => {
  it("stops the server after it answers the login in flight", async () => {
    // bcrypt at cost 13 keeps the login busy for a while after SIGTERM arrives.
    server = await startServerCommand("npm", ["start", "--silent", "--ignore-scripts"], { DATA_DIR: path.join(root, "data"), BCRYPT_COST: "13", SHUTDOWN_TIMEOUT: "30s" }, 60_000);
    const pid = serverPid(server.logs);
    expect(pid).not.toBe(server.child.pid);
    const user = await registerUser(server.client);

    const inFlight = server.client.request(LoginDocument, { input: { identifier: user.user.email, password: user.password } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exitCode = server.stop();
    const answered = await within(30_000, "the login in flight", inFlight);
    expect(answered.value.data?.login.__typename).toBe("AuthPayload");
    expect((await within(30_000, "npm exiting", exitCode)).value).toBe(0);
    server = undefined;

    // No orphan: the server process is gone too.
    await within(10_000, "the server exiting", (async () => {
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    })());
    expect(alive(pid)).toBe(false);
  }, 120_000);
});
