import fs from "node:fs";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { MIGRATIONS_FOLDER } from "../paths";
import { pgliteFlights, postgresFlights, type FlightDb } from "./flights";
import { guardedPool } from "./guarded-pool";
import { PrivateNodeFS } from "./private-nodefs";
import * as schema from "./schema";

/**
 * The drizzle handle every repository takes: the same type on PGlite and PostgreSQL.
 * Rule: inside `db.transaction(tx => ...)` use only `tx`. PGlite runs one transaction at a
 * time, so a query on `db` from inside a transaction waits for that transaction forever.
 */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle, or the database itself where no transaction is open. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** The rows of a raw `execute`: postgres.js returns an array, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export interface Database {
  readonly db: Db;
  readonly kind: "pglite" | "postgres";
  /** Transactions sent in flights (flights.ts): the decision path's. */
  readonly flights: FlightDb;
  /** Applies the migrations in `drizzle/`; safe when several processes start at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = MIGRATIONS_FOLDER;

/** Connections of the decision path's flights, beside the pool (see flights.ts). */
export const DECISION_LANES = 1;

/** Arbitrary, fixed key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 726_340_118;

/** Deadlines of the PostgreSQL pool (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT). */
export interface PostgresOptions {
  poolMax: number;
  /** Opening a connection; default 5 s. */
  connectTimeoutMs?: number;
  /** A statement, and a transaction left idle, are ended by PostgreSQL past this; default 10 s. */
  statementTimeoutMs?: number;
}

/**
 * Every call has a deadline: a connection that cannot be opened fails after the connect
 * timeout (postgres.js CONNECT_TIMEOUT), a statement that runs or waits on a lock too long is
 * cancelled by PostgreSQL (57014), and so is a transaction left idle (its locks released).
 * The pool reopens connections on demand, so it recovers once the database does; it also
 * holds each wait to a deadline of its own and replaces a client whose connections broke
 * (guarded-pool.ts), since the driver's own timeouts do not always end the wait.
 */
export function openPostgres(url: string, options: PostgresOptions): Database {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const connectWith = (max: number) =>
    postgres(url, {
      max,
      onnotice: () => undefined,
      connect_timeout: (options.connectTimeoutMs ?? 5_000) / 1000,
      // No query for array types on each new connection: postgres.js runs it without handling
      // its failure, so a connection cut at that moment rejected with nobody listening (and
      // it costs a round trip). Array columns are read and written through drizzle, which
      // parses and formats PostgreSQL's array text itself; raw statements pass lists as JSON.
      fetch_types: false,
      connection: {
        application_name: "agent-identity",
        statement_timeout: statementTimeoutMs,
        idle_in_transaction_session_timeout: statementTimeoutMs,
      },
    });
  // Each wait on the database: opening a connection, then the statement, then a margin.
  const deadlineMs = (options.connectTimeoutMs ?? 5_000) + statementTimeoutMs + 1_000;
  const pool = guardedPool(() => connectWith(options.poolMax), { deadlineMs });
  const db = drizzlePostgres({ client: pool.client, schema }) as unknown as Db;
  // One lane: a process has one batch of decisions in flight at a time (decision-batcher.ts).
  const flights = postgresFlights(() => connectWith(1), DECISION_LANES, deadlineMs);
  return {
    db,
    kind: "postgres",
    flights,
    async migrate() {
      // No statement timeout here: waiting for another process's migrations is expected.
      const lockClient = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: (options.connectTimeoutMs ?? 5_000) / 1000 });
      try {
        await lockClient`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres({ client: lockClient }), { migrationsFolder });
        await lockClient`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      } finally {
        await lockClient.end({ timeout: 5 });
      }
    },
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      await Promise.all([pool.close(), flights.close()]);
    },
  };
}

/** The extensions the migrations create, loaded into every PGlite: pg_trgm (the users search, migration 0018). */
export const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * PGlite: PostgreSQL compiled to WASM, in this process. `dataDir` undefined means in memory
 * (tests). It runs one transaction at a time, which makes it simple and correct, not fast.
 */
export function openPglite(dataDir: string | undefined): Database {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const client = dataDir ? new PGlite({ fs: new PrivateNodeFS(dataDir), extensions: PGLITE_EXTENSIONS }) : new PGlite({ extensions: PGLITE_EXTENSIONS });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    flights: pgliteFlights(client),
    async migrate() {
      await migratePglite(drizzlePglite({ client }), { migrationsFolder });
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}
