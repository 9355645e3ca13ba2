import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/backend";
import { registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Every process runs housekeeping on its own timer; one run at a time does the work. A run
 * that finds another process's run under way (its advisory lock held) skips its round.
 */
const HOUSEKEEPING_LOCK_KEY = 726_340_121;
const clock = new ManualClock();
let testDatabase: TestDatabase;
let server: TestServer;
let other: postgres.Sql;

beforeAll(async () => {
  testDatabase = await createTestDatabase("postgres");
  server = await startTestServer({ clock, database: testDatabase.database, env: { HOUSEKEEPING_RETENTION: "1d" } });
  // Another process's connection to the same database.
  other = postgres(testDatabase.url!, { max: 1, onnotice: () => undefined });
});
afterAll(async () => {
  await other?.end();
  await server?.close();
  await testDatabase?.drop();
});

describe("housekeeping across processes", () => {
  it("skips a round while another process's run holds the lock, and does the work once it is free", async () => {
    await registerUser(server.client);
    clock.advance(40 * 24 * 3_600_000);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const otherRun = other.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${HOUSEKEEPING_LOCK_KEY})`;
      locked();
      await released;
    });
    await holding;
    expect(await server.app.services.housekeeping.run()).toBeNull();
    release();
    await otherRun;
    // The registration's session ended (idle and absolute expiry) more than a day ago.
    expect(await server.app.services.housekeeping.run()).toMatchObject({ sessions: 1 });
  });
});
