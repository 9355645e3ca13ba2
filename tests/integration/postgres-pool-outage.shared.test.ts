import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Database } from "../../src/db/database";
import { backingServiceOutage } from "../../src/errors/backing-service";
import { createPostgresDatabase } from "../support/backend";
import { openDatabaseSwitchOn, outcomeOf, within, type DatabaseSwitch } from "../support/outage";

/**
 * The pool and the decision lanes through connections cut with statements in flight, while
 * PostgreSQL refuses new ones: every later call fails as an outage within a bound (never a
 * wait for the database to come back), and the same handle works again once it does. The
 * bound is several times the configured deadlines (1 s connect, 1 s statement).
 */
const BOUND_MS = 6_000;
const POOL_MAX = 4;

let created: Awaited<ReturnType<typeof createPostgresDatabase>>;
let database: Database;
let outage: DatabaseSwitch;

beforeAll(async () => {
  created = await createPostgresDatabase();
  database = openPostgres(created.url, { poolMax: POOL_MAX, connectTimeoutMs: 1_000, statementTimeoutMs: 1_000 });
  await database.db.execute(sql`CREATE TABLE notes (id int PRIMARY KEY)`);
  outage = await openDatabaseSwitchOn(database);
});

afterAll(async () => {
  await outage?.close();
  await database?.close();
  await created?.drop();
});

/**
 * Settles within the bound; resolves with how it ended (see outcomeOf). A refused connection
 * says "database unreachable"; "database timeout" would mean a call waited out its deadline.
 */
async function attempt(what: string, call: () => Promise<unknown>): Promise<string> {
  const { value } = await within(BOUND_MS, what, outcomeOf(call()));
  return value.startsWith("ok") ? "ok" : value;
}

/** Every connection busy in a statement, then the database refuses and ends them all. */
async function cutWithStatementsInFlight(run: () => Promise<unknown>, count: number): Promise<void> {
  const inFlight = Array.from({ length: count }, () => run().then(() => "finished", (error: unknown) => backingServiceOutage(error)?.service));
  await new Promise((resolve) => setTimeout(resolve, 150));
  await outage.refuse();
  expect(await Promise.all(inFlight.map((settled, index) => within(BOUND_MS, `in flight ${index}`, settled).then((r) => r.value)))).toEqual(
    Array.from({ length: count }, () => "database"),
  );
}

describe("connections cut with statements in flight, new ones refused", () => {
  it("fails every later pool query and transaction as an outage within the bound, then works again", async () => {
    await cutWithStatementsInFlight(() => database.db.execute(sql`SELECT pg_sleep(0.9)`), POOL_MAX);
    try {
      for (let round = 0; round < 3; round += 1) {
        const queries = Array.from({ length: 2 * POOL_MAX }, (_, index) => attempt(`round ${round} query ${index}`, () => database.db.execute(sql`SELECT 1`)));
        const transaction = attempt(`round ${round} transaction`, () =>
          database.db.transaction(async (tx) => {
            await tx.execute(sql`INSERT INTO notes VALUES (${round})`);
            await tx.transaction((inner) => inner.execute(sql`INSERT INTO notes VALUES (${100 + round})`));
          }),
        );
        expect(await Promise.all([...queries, transaction])).toEqual(Array.from({ length: 2 * POOL_MAX + 1 }, () => "database unreachable"));
      }
    } finally {
      await outage.accept();
    }
    expect(await attempt("query after", () => database.db.execute(sql`SELECT 1`))).toBe("ok");
    expect(await attempt("transaction after", () => database.db.transaction((tx) => tx.execute(sql`INSERT INTO notes VALUES (7)`)))).toBe("ok");
    const rows = (await database.db.execute(sql`SELECT id FROM notes ORDER BY id`)) as unknown as { id: number }[];
    expect(rows.map((row) => row.id)).toEqual([7]);
  });

  it("fails every later flight transaction as an outage within the bound, then works again", async () => {
    const flight = () => database.flights.transaction((tx) => tx.flight([{ text: "SELECT pg_sleep(0.9)", params: [] }], { commit: true }));
    await cutWithStatementsInFlight(flight, 2);
    try {
      for (let round = 0; round < 3; round += 1) {
        const transactions = Array.from({ length: 4 }, (_, index) =>
          attempt(`round ${round} flight ${index}`, () => database.flights.transaction((tx) => tx.flight([{ text: "SELECT 1", params: [] }], { commit: true }))),
        );
        expect(await Promise.all(transactions)).toEqual(Array.from({ length: 4 }, () => "database unreachable"));
      }
    } finally {
      await outage.accept();
    }
    expect(await attempt("flight after", () => database.flights.transaction((tx) => tx.flight([{ text: "SELECT 1", params: [] }], { commit: true })))).toBe("ok");
  });
});
