import crypto from "node:crypto";
import postgres from "postgres";
import { openPglite, openPostgres, type Database, type PostgresOptions } from "../../src/db/database";

export type Backend = "embedded" | "postgres";
export const BACKEND: Backend = process.env.TEST_BACKEND === "postgres" ? "postgres" : "embedded";
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A database of its own for one test file: in-memory PGlite, or a fresh PostgreSQL database. */
export interface TestDatabase {
  database: Database;
  /** Set for PostgreSQL: what other processes use to reach the same database. */
  url?: string;
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ais_test_${crypto.randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: urlFor(name),
    async drop() {
      const cleanup = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => undefined });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

export async function createTestDatabase(backend: Backend = BACKEND, options: Omit<PostgresOptions, "poolMax"> = {}): Promise<TestDatabase> {
  if (backend === "embedded") {
    const database = openPglite(undefined);
    return { database, drop: () => database.close() };
  }
  const created = await createPostgresDatabase();
  const database = openPostgres(created.url, { ...options, poolMax: 10 });
  return {
    database,
    url: created.url,
    async drop() {
      await database.close();
      await created.drop();
    },
  };
}

/** A key prefix of its own in the shared Redis, so parallel test files never meet. */
export function uniqueRedisPrefix(): string {
  return `ais-test-${crypto.randomBytes(6).toString("hex")}:`;
}
