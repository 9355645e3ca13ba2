import { expect } from "vitest";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openPostgres, type Database } from "../../src/db/database";
import { backingServiceOutage } from "../../src/errors/backing-service";
import { ADMIN_DATABASE_URL } from "./backend";
import type { TestServer } from "./test-server";
import type { GraphQLResponse } from "./graphql-client";

/**
 * Not a hang: `promise` must settle within `ms` (a generous bound, several times the
 * configured timeout, so a loaded machine does not fail it). Resolves with the value and how
 * long it took.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<{ value: T; tookMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (a hang)`)), ms);
  });
  try {
    const value = await Promise.race([promise, limit]);
    return { value, tookMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** How a call ended: "ok <value as JSON>", "<service> <kind>" for an outage, or "error <message>". */
export async function outcomeOf(pending: PromiseLike<unknown>): Promise<string> {
  try {
    return `ok ${JSON.stringify(await pending) ?? ""}`;
  } catch (error) {
    const outage = backingServiceOutage(error);
    return outage ? `${outage.service} ${outage.kind}` : `error ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** What a driver error would leak: SQL, PostgreSQL's or Redis's words, error codes, hosts. */
export const LEAK =
  /\b(select|insert|update|delete|from|where)\b|sql|postgres|redis|pg_|fatal|sqlstate|57P0|55000|3D000|accepting connections|terminat|ECONN|timed out|127\.0\.0\.1|ais_test_|stream isn't/i;

/** Exactly one error, SERVICE_UNAVAILABLE, nothing else in the answer and nothing leaked. */
export function expectUnavailable(response: GraphQLResponse<unknown>, field: string): void {
  expect(response.errors, `${field}: ${JSON.stringify(response.errors)}`).toHaveLength(1);
  expect(response.errors![0]!.extensions, `${field}: ${JSON.stringify(response.errors)}`).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  expect(JSON.stringify(response.errors)).not.toMatch(LEAK);
  const data = response.data as Record<string, unknown> | null | undefined;
  expect(data?.[field] ?? null).toBeNull();
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The switch over one test server's own PostgreSQL database (see `openDatabaseSwitch`). */
export interface DatabaseSwitch {
  readonly databaseName: string;
  /** A connection of the test's own to the server's database, for counting what was written. */
  readonly checker: Database;
  /** No new connection is accepted, and every open one is ended. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Accepts connections again (whatever a test left), then closes its own connections. */
  close(): Promise<void>;
}

/**
 * Breaks and mends a test server's own PostgreSQL database (never a shared one), through a
 * superuser connection to the maintenance database.
 */
export async function openDatabaseSwitch(server: TestServer, checkerPoolMax = 1): Promise<DatabaseSwitch> {
  return openDatabaseSwitchOn(server.app.database, checkerPoolMax);
}

/** The same switch over the database `database` is connected to (a test's own). */
export async function openDatabaseSwitchOn(database: Database, checkerPoolMax = 1): Promise<DatabaseSwitch> {
  const [row] = (await database.db.execute(sql`SELECT current_database() AS name`)) as unknown as { name: string }[];
  const databaseName = row?.name ?? "";
  expect(databaseName).toMatch(/^ais_test_[0-9a-f]+$/);
  const superuser = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => undefined });
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${databaseName}`;
  const checker = openPostgres(url.toString(), { poolMax: checkerPoolMax });
  const accept = async () => {
    await superuser.unsafe(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS true`);
  };
  return {
    databaseName,
    checker,
    async refuse() {
      await superuser.unsafe(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS false`);
      await superuser`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${databaseName} AND pid <> pg_backend_pid()`;
      await until(async () => {
        const [count] = await superuser`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${databaseName}`;
        return count?.n === 0;
      }, "every connection to the test database has ended");
    },
    accept,
    async close() {
      await accept();
      await superuser.end();
      await checker.close();
    },
  };
}
