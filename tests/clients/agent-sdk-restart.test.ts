import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentClient } from "../../clients/agent/src";
import { units } from "../support/agent-fixtures";
import { BACKEND, createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { loginUser } from "../support/fixtures";
import { startServerProcess, type ServerProcess } from "../support/server-process";
import { agentDay, governedAgent, ownersView } from "./sdk-fixtures";

/**
 * The SDK across a server restart: the server decides a submit and stops before the agent
 * sees the answer; the SDK keeps retrying with backoff while nothing listens, the server
 * comes back on the same port and the same data (PGlite's DATA_DIR, or PostgreSQL + Redis),
 * and the retry gets the first decision: the work runs once, the action is charged once.
 */
const ADMIN = { email: "sdk-admin@example.com", password: "sdk-admin-password-1" };
let dataDir: string;
let env: Record<string, string>;
let dropDatabase: () => Promise<void> = async () => undefined;
let server: ServerProcess | undefined;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-sdk-restart-"));
  env = {
    DATA_DIR: dataDir,
    BCRYPT_COST: "4",
    MFA_REQUIRED_ROLES: "none",
    RATE_LIMIT_SCALE: "1000",
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
  };
  if (BACKEND === "postgres") {
    const database = await createPostgresDatabase();
    dropDatabase = database.drop;
    Object.assign(env, { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: uniqueRedisPrefix() });
  }
  server = await startServerProcess(env, 60_000);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await dropDatabase();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const until = async (condition: () => boolean, what: string) => {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("the SDK across a server restart", () => {
  it("retries a decided submit while the server is down and gets the first decision once it is back", async () => {
    const first = server!;
    const admin = await loginUser(first.client, ADMIN.email, ADMIN.password);
    const subject = await governedAgent(first.client, admin);
    const port = new URL(first.url).port;

    let stopped = false;
    let refused = 0;
    // The first submit reaches the server, which decides and reserves; the server then
    // stops before the agent reads the answer. Later tries meet a closed port until it is back.
    const throughRestart: typeof fetch = async (input, init) => {
      let response: Response;
      try {
        response = await fetch(input, init);
      } catch (error) {
        refused++;
        throw error;
      }
      if (!stopped && String(init?.body).includes("submitAgentAction")) {
        stopped = true;
        await response.text();
        await first.stop();
        throw new TypeError("fetch failed: the server went away");
      }
      return response;
    };

    let ran = 0;
    const sdk = createAgentClient({ url: first.url, apiKey: subject.agent.key, fetch: throughRestart, retry: { attempts: 60, baseMs: 100, maxMs: 500 } });
    const outcome = sdk.governed({ action: "llm.chat", estimatedCost: units(10) }, async () => {
      ran++;
      return { actualCost: units(6), result: "done" };
    });

    await until(() => refused >= 2, "the SDK's retries to meet the stopped server");
    server = await startServerProcess({ ...env, PORT: port }, 60_000);
    expect(await outcome).toMatchObject({ status: "SETTLED", result: "done", settled: { actualCost: units(6) } });
    expect(ran).toBe(1);

    // The owner's session from before the restart still holds: same keys, same sessions.
    const seen = await ownersView(server.client, subject);
    expect(seen.totalCount).toBe(1);
    expect(seen.edges[0]!.node).toMatchObject({ status: "SETTLED", actualCost: units(6) });
    expect(await agentDay(server.client, subject)).toMatchObject({ reserved: "0", settled: units(6) });
  }, 120_000);
});
