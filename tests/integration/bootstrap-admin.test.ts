import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ADMIN_EMAIL, ensureBootstrapAdmin } from "../../src/bootstrap/bootstrap-admin";
import { createLogger } from "../../src/logging/logger";
import { systemClock } from "../../src/clock";
import { loginUser } from "../support/fixtures";
import { startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { BOOTSTRAP_ADMIN_EMAIL: "", BOOTSTRAP_ADMIN_PASSWORD: "" } });
});
afterAll(() => server.close());

describe("first start without bootstrap settings", () => {
  it("creates an admin with a random password that works, to be printed once", async () => {
    const outcome = server.app.bootstrap;
    expect(outcome.created).toBe(true);
    if (!outcome.created) return;
    expect(outcome.email).toBe(DEFAULT_ADMIN_EMAIL);
    expect(outcome.generatedPassword).toMatch(/^[\w-]{24}$/);
    const admin = await loginUser(server.client, DEFAULT_ADMIN_EMAIL, outcome.generatedPassword);
    expect(admin.user.roles).toContain("ADMIN");
  });

  it("does nothing on later starts, once an admin exists", async () => {
    const again = await ensureBootstrapAdmin({
      db: server.app.database.db,
      hasher: server.app.hasher,
      clock: systemClock,
      logger: createLogger({ level: "silent" }),
      email: "someone-else@example.com",
      password: "another-password-123",
    });
    expect(again).toEqual({ created: false, reason: "admin_exists" });
  });
});
