import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { batchedOutput } from "../../src/logging/batched-output";
import { PROJECT_ROOT } from "../../src/paths";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("batchedOutput", () => {
  it("writes the lines of one event-loop turn together, in order, at the end of that turn", async () => {
    const chunks: string[] = [];
    const output = batchedOutput((chunk) => chunks.push(chunk));
    output.write("a\n");
    output.write("b\n");
    output.write("c\n");
    expect(chunks).toEqual([]);
    await nextTurn();
    expect(chunks).toEqual(["a\nb\nc\n"]);
    output.write("d\n");
    await nextTurn();
    await nextTurn();
    expect(chunks).toEqual(["a\nb\nc\n", "d\n"]);
  });

  it("writes what is pending at once on flushSync, and nothing twice", async () => {
    const chunks: string[] = [];
    const output = batchedOutput((chunk) => chunks.push(chunk));
    output.write("fatal\n");
    output.flushSync();
    expect(chunks).toEqual(["fatal\n"]);
    await nextTurn();
    output.flushSync();
    expect(chunks).toEqual(["fatal\n"]);
  });

  it("keeps every line a process logged just before process.exit, through a pipe read slower than it is written", async () => {
    // The compiled module, as `npm start` runs it (npm test builds first).
    const script = `
      const pino = require("pino");
      const { batchedStdout } = require(${JSON.stringify(path.join(PROJECT_ROOT, "dist/src/logging/batched-output.js"))});
      const logger = pino({ base: null, timestamp: false }, batchedStdout());
      for (let i = 0; i < 2000; i += 1) logger.info({ i, pad: "x".repeat(1000) }, "line");
      process.exit(3);`;
    const child = spawn(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.setEncoding("utf8");
    // Read in small bites with pauses, so the pipe fills up while the child is exiting.
    child.stdout.on("data", (chunk: string) => {
      text += chunk;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(code).toBe(3);
    const lines = text.trim().split("\n").map((line) => (JSON.parse(line) as { i: number }).i);
    expect(lines).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });
});
