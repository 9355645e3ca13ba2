/**
 * The PostgreSQL pool behind drizzle, kept usable through outages and held to a deadline.
 *
 * postgres.js (3.4) can leave a connection unusable after its socket fails with a statement in
 * flight: the failed statement stays attached to the connection, so when the next connection
 * attempt is refused with an error (the database not accepting connections, shutting down,
 * too many connections), that error is taken for the old statement's and the connection tries
 * again at once, in a loop. The statement waiting for that connection waits until the database
 * accepts connections again; neither the connect timeout nor the statement timeout ends it.
 * So this pool:
 *
 * - retires its client when a call fails because the database is unreachable: later calls go
 *   to a fresh client (connections are opened on demand), and the retired one is ended at
 *   once, which fails whatever it still holds. Nothing it held is sent later: a statement or
 *   transaction whose caller was answered with an outage cannot run once the database is
 *   back. (Its other calls in flight fail too; their connections break, so PostgreSQL rolls
 *   their transactions back.)
 * - gives every wait on the database its own deadline: a statement, and each step of a
 *   transaction (BEGIN with the wait for a connection, each statement, COMMIT or ROLLBACK).
 *   Past it the call fails as a timeout and the client is retired too. The deadline is the
 *   connect timeout plus the statement timeout plus a second, so PostgreSQL's own deadlines
 *   answer first whenever the driver is sound.
 *
 * The facade is the part of postgres.js's `Sql` that drizzle calls: `options` (whose parsers
 * drizzle sets once; each fresh client is given the same), `unsafe` and `begin`, and inside a
 * transaction `unsafe` and `savepoint`.
 */
import type postgres from "postgres";
import { backingServiceOutage, BackingServiceError } from "../errors/backing-service";
import { within } from "./deadline";

export interface GuardedPoolOptions {
  /** How long one wait on the database may last. */
  deadlineMs: number;
}

export interface GuardedPool {
  /** What drizzle is given in place of a postgres.js client. */
  readonly client: postgres.Sql;
  close(): Promise<void>;
}

type Query = PromiseLike<unknown> & { values(): Query };
type SqlLike = Pick<postgres.Sql, "unsafe">;
type TransactionSql = postgres.TransactionSql;

/** A postgres.js query that is run, when awaited, through `run` (drizzle awaits it, or `.values()` of it). */
class GuardedQuery implements PromiseLike<unknown> {
  constructor(
    private query: Query,
    private readonly run: (query: PromiseLike<unknown>) => Promise<unknown>,
  ) {}

  values(): this {
    this.query = this.query.values();
    return this;
  }

  then<A = unknown, B = never>(onfulfilled?: ((value: unknown) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.run(this.query).then(onfulfilled, onrejected);
  }
}

export function guardedPool(connect: () => postgres.Sql, options: GuardedPoolOptions): GuardedPool {
  const { deadlineMs } = options;
  const first = connect();
  let current = first;
  const retiring = new Set<Promise<void>>();

  const retire = (client: postgres.Sql) => {
    if (client !== current) return;
    current = connect();
    Object.assign(current.options.parsers, first.options.parsers);
    Object.assign(current.options.serializers, first.options.serializers);
    const ending: Promise<void> = client
      .end({ timeout: 0 })
      .catch(() => undefined)
      .finally(() => retiring.delete(ending));
    retiring.add(ending);
  };
  const timedOut = (client: postgres.Sql) => () => {
    retire(client);
    return new BackingServiceError("database", "timeout");
  };
  /** A failure that says the connection is gone retires the client it came from. */
  const noteFailure = (client: postgres.Sql) => (error: unknown) => {
    if (backingServiceOutage(error)?.kind === "unreachable") retire(client);
    throw error;
  };

  const unsafe = (...args: Parameters<postgres.Sql["unsafe"]>) => {
    const client = current;
    return new GuardedQuery(client.unsafe(...args) as unknown as Query, (query) => within(query, deadlineMs, timedOut(client)).catch(noteFailure(client)));
  };

  const begin = (...args: unknown[]): Promise<unknown> => {
    const client = current;
    const body = args.at(-1) as (sql: unknown) => unknown;
    const mode = args.length > 1 ? (args[0] as string) : "";
    let abandon: (error: Error) => void = () => undefined;
    const abandoned = new Promise<never>((_resolve, reject) => {
      abandon = reject;
    });
    const late = () => {
      const error = timedOut(client)();
      abandon(error);
      return error;
    };
    const guard = <T>(pending: PromiseLike<T>) => within(pending, deadlineMs, late);
    /**
     * A scope (the transaction, or a savepoint in it): its opening (with the wait for a
     * connection) and its ending (COMMIT, RELEASE or ROLLBACK) each wait under the deadline.
     */
    const scope = (open: (inner: (sql: TransactionSql) => Promise<unknown>) => PromiseLike<unknown>, inner: (sql: unknown) => unknown) => {
      let timer = setTimeout(late, deadlineMs);
      const opened = open(async (sql) => {
        clearTimeout(timer);
        try {
          return await inner(wrap(sql));
        } finally {
          timer = setTimeout(late, deadlineMs);
        }
      });
      return Promise.resolve(opened).finally(() => clearTimeout(timer));
    };
    const wrap = (sql: TransactionSql): SqlLike & Pick<TransactionSql, "savepoint"> => ({
      unsafe: ((...unsafeArgs: Parameters<postgres.Sql["unsafe"]>) => new GuardedQuery(sql.unsafe(...unsafeArgs) as unknown as Query, guard)) as unknown as postgres.Sql["unsafe"],
      savepoint: ((savepointBody: (sql: unknown) => unknown) => scope((inner) => sql.savepoint(inner), savepointBody)) as unknown as TransactionSql["savepoint"],
    });
    const transaction = scope((inner) => (mode ? client.begin(mode, inner) : client.begin(inner)), body);
    return Promise.race([transaction, abandoned]).catch(noteFailure(client));
  };

  const facade = {
    get options() {
      return first.options;
    },
    unsafe,
    begin,
  };
  return {
    client: facade as unknown as postgres.Sql,
    async close() {
      await Promise.all([current.end({ timeout: 5 }), ...retiring]);
    },
  };
}
