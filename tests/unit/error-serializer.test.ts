import { Writable } from "node:stream";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { scrubErrorMessage, serializeError } from "../../src/logging/error-serializer";
import { createLogger } from "../../src/logging/logger";

const SECRET = "alice-secret-value@example.com";

/** A driver error as postgres.js and PGlite shape them: SQLSTATE, names, and the values in detail. */
function driverError(message: string, code: string): Error {
  return Object.assign(new Error(message), {
    code,
    severity: "ERROR",
    detail: `Key (email)=(${SECRET}) already exists.`,
    where: `unnamed portal parameter $1 = '${SECRET}'`,
    constraint_name: "users_email_key",
    table_name: "users",
    parameters: [SECRET],
    params: [SECRET],
  });
}

function logged(err: unknown): string {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  createLogger({ level: "info", destination }).error({ err, requestId: "req-1" }, "unexpected error");
  return lines.join("");
}

describe("the error serializer keeps the values of a failed statement out of the log", () => {
  it("drops drizzle's params, the driver's parameters and detail, and keeps SQL, SQLSTATE and names", () => {
    const cause = driverError('duplicate key value violates unique constraint "users_email_key"', "23505");
    const error = new DrizzleQueryError('insert into "users" ("email") values ($1)', [SECRET], cause);
    const line = logged(error);
    expect(line).not.toContain(SECRET);
    const entry = JSON.parse(line);
    expect(entry.requestId).toBe("req-1");
    expect(entry.err.type).toBe("DrizzleQueryError");
    expect(entry.err.message).toBe('Failed query: insert into "users" ("email") values ($1)');
    expect(entry.err.stack).toMatch(/^DrizzleQueryError: Failed query: .*\n\s+at /);
    expect(entry.err.cause).toMatchObject({ code: "23505", constraint_name: "users_email_key", table_name: "users" });
    expect(entry.err.cause.message).toContain("users_email_key");
  });

  it("masks the value a data exception quotes", () => {
    const cause = driverError(`invalid input syntax for type uuid: "${SECRET}"`, "22P02");
    const line = logged(new DrizzleQueryError('select * from "agents" where "owner_id" = $1', [SECRET], cause));
    expect(line).not.toContain(SECRET);
    expect(JSON.parse(line).err.cause.message).toBe('invalid input syntax for type uuid: "[redacted]"');
    expect(scrubErrorMessage("invalid byte sequence for encoding \"UTF8\": 0x00", "22021")).not.toMatch(/0x00/);
  });

  it("keeps ordinary errors readable and leaves non-errors alone", () => {
    const error = new TypeError("cannot read x of undefined");
    const serialized = serializeError(error) as { type: string; message: string; stack: string };
    expect(serialized).toMatchObject({ type: "TypeError", message: "cannot read x of undefined" });
    expect(serialized.stack).toMatch(/^TypeError: cannot read x of undefined\n\s+at /);
    expect(serializeError("plain")).toBe("plain");
  });

  it("follows causes only so deep", () => {
    let error = new Error("root");
    for (let i = 0; i < 20; i += 1) error = new Error(`level ${i}`, { cause: error });
    expect(() => JSON.stringify(serializeError(error))).not.toThrow();
    expect(JSON.stringify(serializeError(error))).not.toContain("root");
  });
});
