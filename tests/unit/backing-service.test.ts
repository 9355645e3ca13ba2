import { describe, expect, it } from "vitest";
import { backingServiceOutage, BackingServiceError } from "../../src/errors/backing-service";
import { ConflictError } from "../../src/errors/errors";
import { formatError } from "../../src/graphql/format-error";

/** Shaped like postgres.js's errors: a code, and for server errors a severity. */
function driverError(code: string, severity?: string): Error {
  return Object.assign(new Error(`driver says ${code}`), { code, severity });
}

describe("backingServiceOutage", () => {
  it.each([
    ["ECONNREFUSED", "unreachable"],
    ["CONNECTION_CLOSED", "unreachable"],
    ["CONNECTION_ENDED", "unreachable"],
    ["CONNECTION_DESTROYED", "unreachable"],
    ["CONNECT_TIMEOUT", "timeout"],
    ["08006", "unreachable"],
    ["57P01", "unreachable"],
    ["57P03", "unreachable"],
    ["53300", "unreachable"],
    ["57014", "timeout"],
    ["55P03", "timeout"],
  ])("classifies %s as the database %s", (code, kind) => {
    expect(backingServiceOutage(driverError(code))).toEqual({ service: "database", kind });
  });

  it("classifies any FATAL server error as unreachable (it ends the connection)", () => {
    expect(backingServiceOutage(driverError("55000", "FATAL"))).toEqual({ service: "database", kind: "unreachable" });
    expect(backingServiceOutage(driverError("55000", "ERROR"))).toBeUndefined();
  });

  it("follows causes (drizzle wraps driver errors) and keeps typed store errors as they are", () => {
    expect(backingServiceOutage(new Error("Failed query", { cause: driverError("57P01") }))).toEqual({ service: "database", kind: "unreachable" });
    expect(backingServiceOutage(new BackingServiceError("redis", "timeout"))).toEqual({ service: "redis", kind: "timeout" });
  });

  it("leaves statement errors and bugs alone", () => {
    for (const code of ["23505", "42P01", "22P02", "40001"]) expect(backingServiceOutage(driverError(code, "ERROR"))).toBeUndefined();
    expect(backingServiceOutage(new TypeError("x is undefined"))).toBeUndefined();
    expect(backingServiceOutage("ECONNREFUSED")).toBeUndefined();
  });
});

describe("formatError on outages", () => {
  it("answers SERVICE_UNAVAILABLE with nothing of the cause, and keeps typed errors", () => {
    const formatted = formatError({ message: "connect ECONNREFUSED 127.0.0.1:5432" }, driverError("ECONNREFUSED"));
    expect(formatted).toEqual({ message: "Service temporarily unavailable", extensions: { code: "SERVICE_UNAVAILABLE" } });
    expect(formatError({ message: "x" }, new ConflictError("taken", "email")).extensions).toEqual({ code: "CONFLICT", field: "email" });
    expect(formatError({ message: "x" }, new TypeError("bug")).extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
  });
});
