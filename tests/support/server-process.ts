import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { PROJECT_ROOT } from "../../src/paths";
import { GraphQLClient } from "./graphql-client";

/** A server started as its own OS process from the compiled build, as production runs it. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  client: GraphQLClient;
  logs: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `entry`: the compiled script to run (the benchmark runs its floor server instead). */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 30_000, entry = "dist/src/main.js"): Promise<ServerProcess> {
  return startServerCommand(process.execPath, [path.join(PROJECT_ROOT, entry)], env, timeoutMs);
}

/**
 * Any command that ends up running the server (`npm start` included), from the project
 * root. `pid` of the server itself is in every log line; `child` is the command's process.
 */
export async function startServerCommand(command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => logs.push(line));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start (it must log "listening" at LOG_LEVEL info):\n${logs.join("\n")}`));
    }, timeoutMs);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${logs.join("\n")}`)));
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg?.startsWith("listening") && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    url,
    client: new GraphQLClient(url),
    logs,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
