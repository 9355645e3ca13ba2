import { refusedField } from "../support/assertions";
import { describe, expect, it } from "vitest";
import {
  actionPrefix,
  decodeCursor,
  encodeCursor,
  parseAuditFilter,
  parsePageSize,
  parseSeq,
} from "../../src/audit/audit-filter";

const fieldOf = refusedField;

describe("audit filter", () => {
  it("keeps what is given and drops nulls", () => {
    const from = new Date("2025-01-01T00:00:00Z");
    expect(parseAuditFilter({ actorId: "u1", action: null, outcome: "failure", from, to: undefined })).toEqual({
      actorId: "u1",
      outcome: "failure",
      from,
    });
    expect(parseAuditFilter(null)).toEqual({});
  });

  it("takes an exact action or a prefix ending in *", () => {
    expect(parseAuditFilter({ action: "auth.login.failed" }).action).toBe("auth.login.failed");
    expect(actionPrefix("auth.*")).toBe("auth.");
    expect(actionPrefix("auth.login*")).toBe("auth.login");
    expect(actionPrefix("auth.logout")).toBeUndefined();
    expect(parseAuditFilter({ action: "*" })).toEqual({});
    expect(fieldOf(() => parseAuditFilter({ action: "auth.*.failed" }))).toBe("filter.action");
    expect(fieldOf(() => parseAuditFilter({ action: "**" }))).toBe("filter.action");
  });

  it("refuses from after to, an empty text, an unknown enum value", () => {
    const early = new Date("2025-01-01T00:00:00Z");
    const late = new Date("2025-02-01T00:00:00Z");
    expect(fieldOf(() => parseAuditFilter({ from: late, to: early }))).toBe("filter.from");
    expect(parseAuditFilter({ from: early, to: early })).toEqual({ from: early, to: early });
    expect(fieldOf(() => parseAuditFilter({ targetId: "" }))).toBe("filter.targetId");
    expect(fieldOf(() => parseAuditFilter({ actorId: "x".repeat(513) }))).toBe("filter.actorId");
    expect(fieldOf(() => parseAuditFilter({ outcome: "maybe" as never }))).toBe("filter.outcome");
    expect(fieldOf(() => parseAuditFilter({ actorType: "robot" as never }, ""))).toBe("actorType");
    expect(fieldOf(() => parseAuditFilter({ to: new Date("nope") }))).toBe("filter.to");
  });
});

describe("cursors and page sizes", () => {
  it("round-trip a seq through an opaque base64url cursor", () => {
    for (const seq of [1n, 42n, 9_223_372_036_854_775_807n]) {
      const cursor = encodeCursor(seq);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor)).toBe(seq);
    }
  });

  it("refuse anything that is not a cursor this server made", () => {
    for (const bad of ["", "!!!", encodeCursor(1n) + "=", Buffer.from("abc").toString("base64url"), Buffer.from("0").toString("base64url"), Buffer.from("-1").toString("base64url")]) {
      expect(fieldOf(() => decodeCursor(bad)), bad).toBe("after");
    }
  });

  it("default to 50 and allow 0 to 200", () => {
    expect(parsePageSize(undefined)).toBe(50);
    expect(parsePageSize(null)).toBe(50);
    expect(parsePageSize(0)).toBe(0);
    expect(parsePageSize(200)).toBe(200);
    expect(fieldOf(() => parsePageSize(201))).toBe("first");
    expect(fieldOf(() => parsePageSize(-1))).toBe("first");
  });

  it("read a seq from a string of digits", () => {
    expect(parseSeq("17", "fromSeq")).toBe(17n);
    expect(parseSeq(undefined, "fromSeq")).toBeUndefined();
    expect(fieldOf(() => parseSeq("1e3", "toSeq"))).toBe("toSeq");
    expect(fieldOf(() => parseSeq("99999999999999999999", "toSeq"))).toBe("toSeq");
  });
});
