import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths";

/**
 * Importing the package gives code to embed the server and starts nothing: no database is
 * opened, no port is listened on, and the importing process ends by itself. `npm start`
 * (dist/src/main.js) is the one that serves.
 */
describe("the package entry point", () => {
  it("exports createApp and loadConfig without starting a server", () => {
    const script = `const server = require(${JSON.stringify(PROJECT_ROOT)}); console.log(typeof server.createApp, typeof server.loadConfig);`;
    const run = spawnSync(process.execPath, ["-e", script], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", PORT: "0" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe("function function");
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
  });
});
