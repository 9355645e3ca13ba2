/**
 * Transactions whose statements travel in flights: the statements of one flight are written
 * to the connection together (pipelined) and answered together, so a transaction costs one
 * round trip per flight however many statements it holds. The decision path (decision-
 * batcher.ts) runs its transaction in two flights: BEGIN with the counter locks, then the
 * writes with COMMIT; its locks are held for one round trip of this process instead of three.
 *
 * On PostgreSQL each transaction runs on a lane: a client of its own with one connection, so
 * the statements of a flight reach PostgreSQL in order on that connection and nothing else
 * is interleaved with them. A connection that breaks fails the statements sent on it (they
 * are never re-sent elsewhere: postgres.js rejects what it wrote), and the lane gets a new
 * client for the next transaction. PostgreSQL's own deadlines apply (statement timeout, idle
 * in transaction), and each flight has one of its own besides. On PGlite (one connection,
 * one transaction at a time) a flight is just its statements in turn inside PGlite's
 * transaction.
 *
 * Parameters are plain values; a JSON parameter is passed as the object or array itself
 * with a `::jsonb` cast in the text (both drivers serialize it). Results are rows of
 * strings and JSON: cast numbers to text in the statement (PGlite returns int8 as a float).
 */
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type postgres from "postgres";
import { backingServiceOutage, BackingServiceError } from "../errors/backing-service";
import { within } from "./deadline";

export interface Statement {
  text: string;
  params: readonly unknown[];
}

export type Row = Record<string, unknown>;

export interface FlightTx {
  /**
   * Sends the statements together and resolves with each one's rows, in order. The first
   * flight opens the transaction (BEGIN travels with it); with `commit`, COMMIT travels with
   * this flight and the transaction ends with it. A transaction left open when the body
   * returns is committed; one whose body throws is rolled back.
   */
  flight(statements: readonly Statement[], options?: { commit?: boolean }): Promise<Row[][]>;
}

export interface FlightDb {
  transaction<T>(body: (tx: FlightTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * `lanes` one-connection clients (made by `connect`); a transaction waits for a free one.
 * Each flight, and the COMMIT or ROLLBACK that ends a transaction, waits at most `deadlineMs`
 * (see guarded-pool.ts: the driver's own timeouts do not always end a wait); past it the
 * transaction fails as a timeout and its lane gets a new client.
 */
export function postgresFlights(connect: () => postgres.Sql, lanes: number, deadlineMs: number): FlightDb {
  const clients = new Set(Array.from({ length: lanes }, connect));
  const free = [...clients];
  /**
   * A lane whose connection broke gets a new client: a postgres.js client whose connection
   * was reset while the database refuses new ones leaves every later query waiting (neither
   * its connect timeout nor the statement timeout ends them), so the broken one is ended.
   */
  const replace = (client: postgres.Sql): postgres.Sql => {
    clients.delete(client);
    void client.end({ timeout: 0 }).catch(() => undefined);
    const fresh = connect();
    clients.add(fresh);
    return fresh;
  };
  const waiting: ((client: postgres.Sql) => void)[] = [];

  const acquire = (): Promise<postgres.Sql> => {
    const client = free.pop();
    return client ? Promise.resolve(client) : new Promise((resolve) => waiting.push(resolve));
  };
  const release = (client: postgres.Sql) => {
    const next = waiting.shift();
    if (next) next(client);
    else free.push(client);
  };

  return {
    async transaction(body) {
      const client = await acquire();
      let broken = false;
      let open = false;
      let ended = false;
      const timely = <T>(pending: PromiseLike<T>) =>
        within(pending, deadlineMs, () => {
          broken = true;
          return new BackingServiceError("database", "timeout");
        });
      const tx: FlightTx = {
        async flight(statements, options = {}) {
          if (ended) throw new Error("flight after the transaction ended");
          const queries: postgres.PendingQuery<postgres.Row[]>[] = [];
          if (!open) queries.push(client.unsafe("BEGIN"));
          open = true;
          const first = queries.length;
          for (const statement of statements) {
            queries.push(client.unsafe(statement.text, statement.params as postgres.ParameterOrJSON<never>[], { prepare: true }));
          }
          if (options.commit) {
            // After a failed statement PostgreSQL answers this COMMIT by rolling back.
            queries.push(client.unsafe("COMMIT"));
            ended = true;
          }
          // In order, now: each one is written to the connection as it is executed.
          for (const query of queries) query.execute();
          const results = await timely(Promise.all(queries));
          return results.slice(first, first + statements.length).map((rows) => [...rows] as Row[]);
        },
      };
      try {
        const result = await body(tx);
        if (open && !ended) {
          ended = true;
          await timely(client.unsafe("COMMIT"));
        }
        return result;
      } catch (error) {
        broken ||= backingServiceOutage(error)?.kind === "unreachable";
        // A broken connection took its transaction with it: nothing to roll back.
        if (open && !ended && !broken) await timely(client.unsafe("ROLLBACK")).catch(() => undefined);
        throw error;
      } finally {
        release(broken ? replace(client) : client);
      }
    },
    async close() {
      await Promise.all([...clients].map((client) => client.end({ timeout: 5 })));
    },
  };
}

export function pgliteFlights(client: PGlite): FlightDb {
  return {
    transaction(body) {
      return client.transaction((inner: Transaction) =>
        body({
          async flight(statements) {
            const results: Row[][] = [];
            for (const statement of statements) results.push((await inner.query<Row>(statement.text, [...statement.params])).rows);
            return results;
          },
        }),
      );
    },
    async close() {
      // The client is the database's; it closes it.
    },
  };
}
