import { expect } from "vitest";
import type postgres from "postgres";
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

/**
 * Breaks and mends a test's own PostgreSQL database (never a shared one), through a superuser
 * connection to the maintenance database: `refuse` takes no new connection and ends the open
 * ones; `accept` lets them in again.
 */
export function databaseSwitch(superuser: postgres.Sql, databaseName: string) {
  return {
    async refuse(): Promise<void> {
      await superuser.unsafe(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS false`);
      await superuser`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${databaseName} AND pid <> pg_backend_pid()`;
      await until(async () => {
        const [row] = await superuser`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${databaseName}`;
        return row?.n === 0;
      }, "every connection to the test database has ended");
    },
    async accept(): Promise<void> {
      await superuser.unsafe(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS true`);
    },
  };
}
