import type postgres from "postgres";
import { describe, expect, it } from "vitest";
import { guardedPool } from "../../src/db/guarded-pool";
import { outcomeOf } from "../support/outage";

/**
 * The pool's deadlines and client replacement, against a stand-in for postgres.js whose
 * statements answer, fail or never answer as each test says (a driver that hangs cannot be
 * provoked on demand from a real database; tests/integration/postgres-pool-outage covers the
 * real one).
 */
const DEADLINE_MS = 40;
const NEVER = new Promise<never>(() => undefined);

type Behaviour = (text: string) => Promise<unknown>;

interface FakeClient {
  sql: postgres.Sql;
  statements: string[];
  ended: boolean;
}

function fakeDriver(behaviour: { statement: Behaviour; begin?: () => Promise<void>; commit?: () => Promise<void> }) {
  const clients: FakeClient[] = [];
  const connect = () => {
    const fake: FakeClient = { statements: [], ended: false, sql: undefined as unknown as postgres.Sql };
    const query = (text: string) => {
      const lazy = {
        values: () => lazy,
        then: (resolve: (value: unknown) => unknown, reject: (reason: unknown) => unknown) => {
          fake.statements.push(text);
          return behaviour.statement(text).then(resolve, reject);
        },
      };
      return lazy;
    };
    const transactionSql = (prefix: string): unknown => ({
      unsafe: (text: string) => query(`${prefix}${text}`),
      savepoint: async (body: (sql: unknown) => unknown) => {
        fake.statements.push(`${prefix}SAVEPOINT`);
        const result = await body(transactionSql(`${prefix}  `));
        fake.statements.push(`${prefix}RELEASE`);
        return result;
      },
    });
    fake.sql = {
      options: { parsers: { "16": "bool parser" }, serializers: {} },
      unsafe: (text: string) => query(text),
      begin: async (body: (sql: unknown) => Promise<unknown>) => {
        fake.statements.push("BEGIN");
        await (behaviour.begin?.() ?? Promise.resolve());
        const result = await body(transactionSql("  "));
        await (behaviour.commit?.() ?? Promise.resolve());
        fake.statements.push("COMMIT");
        return result;
      },
      end: () => {
        fake.ended = true;
        return Promise.resolve();
      },
    } as unknown as postgres.Sql;
    clients.push(fake);
    return fake.sql;
  };
  return { clients, pool: guardedPool(connect, { deadlineMs: DEADLINE_MS }) };
}

const answer: Behaviour = (text) => (text.includes("hang") ? NEVER : text.includes("reset") ? Promise.reject(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })) : text.includes("dup") ? Promise.reject(Object.assign(new Error("duplicate key"), { code: "23505" })) : Promise.resolve([text]));

describe("guardedPool statements", () => {
  it("fails a statement that never answers as a database timeout, and sends the next one to a fresh client", async () => {
    const { clients, pool } = fakeDriver({ statement: answer });
    expect(await outcomeOf(pool.client.unsafe("SELECT hang").values())).toBe("database timeout");
    expect(clients[0]!.ended).toBe(true);
    expect(await outcomeOf(pool.client.unsafe("SELECT 1"))).toBe('ok ["SELECT 1"]');
    expect(clients).toHaveLength(2);
    expect(clients[1]!.statements).toEqual(["SELECT 1"]);
  });

  it("replaces the client after a lost connection, not after an ordinary statement error", async () => {
    const { clients, pool } = fakeDriver({ statement: answer });
    expect(await outcomeOf(pool.client.unsafe("INSERT dup"))).toBe("error duplicate key");
    expect(clients).toHaveLength(1);
    expect(await outcomeOf(pool.client.unsafe("SELECT reset"))).toBe("database unreachable");
    expect(clients).toHaveLength(2);
    expect(clients[0]!.ended).toBe(true);
    // The fresh client reads values as the first one was told to (drizzle sets parsers once).
    expect(clients[1]!.sql.options.parsers).toMatchObject({ "16": "bool parser" });
    expect(pool.client.options).toBe(clients[0]!.sql.options);
  });

  it("answers a statement that finishes in time, and keeps the client", async () => {
    const { clients, pool } = fakeDriver({ statement: answer });
    expect(await outcomeOf(pool.client.unsafe("SELECT 1"))).toBe('ok ["SELECT 1"]');
    expect(await outcomeOf(pool.client.unsafe("SELECT 2").values())).toBe('ok ["SELECT 2"]');
    expect(clients).toHaveLength(1);
    expect(clients[0]!.ended).toBe(false);
  });
});

describe("guardedPool transactions", () => {
  const body = async (sql: postgres.TransactionSql) => {
    const first = await sql.unsafe("INSERT 1");
    const nested = await sql.savepoint((inner) => inner.unsafe("INSERT 2"));
    return [first, nested];
  };

  it("runs the body, savepoints included, on the transaction and returns its value", async () => {
    const { clients, pool } = fakeDriver({ statement: answer });
    expect(await outcomeOf(pool.client.begin(body))).toBe('ok [["  INSERT 1"],["    INSERT 2"]]');
    expect(clients[0]!.statements).toEqual(["BEGIN", "  INSERT 1", "  SAVEPOINT", "    INSERT 2", "  RELEASE", "COMMIT"]);
  });

  it.each([
    ["BEGIN (with the wait for a connection)", { begin: () => NEVER }, "INSERT 1"],
    ["a statement", {}, "INSERT hang"],
    ["a statement in a savepoint", {}, "INSERT 1"],
    ["COMMIT", { commit: () => NEVER }, "INSERT 1"],
  ])("fails a transaction as a timeout when %s never answers, and replaces the client", async (step, hooks, firstStatement) => {
    const { clients, pool } = fakeDriver({ statement: answer, ...hooks });
    const nestedStatement = step === "a statement in a savepoint" ? "INSERT hang" : "INSERT 2";
    const result = await outcomeOf(
      pool.client.begin(async (sql: postgres.TransactionSql) => {
        await sql.unsafe(firstStatement);
        return sql.savepoint((inner) => inner.unsafe(nestedStatement));
      }),
    );
    expect(result).toBe("database timeout");
    expect(clients[0]!.ended).toBe(true);
    expect(await outcomeOf(pool.client.unsafe("SELECT 1"))).toBe('ok ["SELECT 1"]');
    expect(clients).toHaveLength(2);
  });

  it("passes a statement error through the transaction without replacing the client", async () => {
    const { clients, pool } = fakeDriver({ statement: answer });
    expect(await outcomeOf(pool.client.begin((sql: postgres.TransactionSql) => sql.unsafe("INSERT dup")))).toBe("error duplicate key");
    expect(clients).toHaveLength(1);
  });
});
