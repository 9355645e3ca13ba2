import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { ConfigError, loadConfig } from "../../src/config/config";
import { createMemoryStore } from "../../src/store/memory-store";
import { createTestDatabase } from "../support/backend";

/**
 * Configuration that can only be checked against the database stops the start like a bad
 * variable: MFA_REQUIRED_ROLES naming a role that does not exist would otherwise silently
 * require MFA of nobody.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-startup-"));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function start(mfaRequiredRoles: string) {
  const testDatabase = await createTestDatabase();
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent", BCRYPT_COST: "4", PORT: "0", MFA_REQUIRED_ROLES: mfaRequiredRoles });
  try {
    const app = await createApp(config, { database: testDatabase.database, store: createMemoryStore({ now: () => new Date() }) });
    await app.close();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await testDatabase.drop();
  }
}

describe("MFA_REQUIRED_ROLES at start", () => {
  it("refuses a role that does not exist, naming the variable and the role", async () => {
    const error = await start("ADMINN");
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^MFA_REQUIRED_ROLES: unknown roles ADMINN \(/)]);
  });

  it("starts with built-in roles", async () => {
    expect(await start("ADMIN,COMPLIANCE_OFFICER")).toBeUndefined();
  });
});
