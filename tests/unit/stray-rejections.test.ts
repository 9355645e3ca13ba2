import { describe, expect, it } from "vitest";
import { BackingServiceError } from "../../src/errors/backing-service";
import { strayRejectionHandler } from "../../src/errors/stray-rejections";

function recordingLogger() {
  const lines: unknown[][] = [];
  return { lines, logger: { warn: (...args: unknown[]) => void lines.push(args) } as never };
}

describe("strayRejectionHandler", () => {
  it("logs a database outage raised inside the driver, without the statement, and lets the process go on", () => {
    const { lines, logger } = recordingLogger();
    // What postgres.js's unawaited type fetch rejects with when its connection is cut.
    const lost = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", query: "select b.oid, b.typarray from pg_catalog.pg_type", parameters: ["secret"] });
    expect(() => strayRejectionHandler(logger)(lost)).not.toThrow();
    expect(() => strayRejectionHandler(logger)(new BackingServiceError("redis", "unreachable"))).not.toThrow();
    expect(lines).toEqual([
      [{ outage: { service: "database", kind: "unreachable" } }, "a backing service outage surfaced outside any request"],
      [{ outage: { service: "redis", kind: "unreachable" } }, "a backing service outage surfaced outside any request"],
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/pg_type|secret|ECONNRESET/);
  });

  it("throws any other reason on, so the process ends as Node would have ended it", () => {
    const { lines, logger } = recordingLogger();
    const bug = new TypeError("cannot read properties of undefined");
    expect(() => strayRejectionHandler(logger)(bug)).toThrow(bug);
    const duplicate = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(() => strayRejectionHandler(logger)(duplicate)).toThrow(duplicate);
    expect(() => strayRejectionHandler(logger)("a string")).toThrow();
    expect(lines).toEqual([]);
  });
});
