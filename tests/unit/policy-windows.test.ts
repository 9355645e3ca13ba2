import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/policy/evaluator";
import { capKey, serializeCapKey, windowBounds, type CapWindow, type Policy } from "../../src/policy/policy-types";

const at = (iso: string) => new Date(iso);

describe("windowBounds (UTC calendar windows)", () => {
  it.each([
    ["HOUR", "2024-03-13T10:59:59.999Z", "2024-03-13T10:00:00.000Z", "2024-03-13T11:00:00.000Z"],
    ["HOUR", "2024-03-13T11:00:00.000Z", "2024-03-13T11:00:00.000Z", "2024-03-13T12:00:00.000Z"],
    ["HOUR", "2024-12-31T23:30:00.000Z", "2024-12-31T23:00:00.000Z", "2025-01-01T00:00:00.000Z"],
    ["DAY", "2024-03-13T23:59:59.999Z", "2024-03-13T00:00:00.000Z", "2024-03-14T00:00:00.000Z"],
    ["DAY", "2024-03-14T00:00:00.000Z", "2024-03-14T00:00:00.000Z", "2024-03-15T00:00:00.000Z"],
    ["DAY", "2024-02-29T12:00:00.000Z", "2024-02-29T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
    ["DAY", "1969-12-31T12:00:00.000Z", "1969-12-31T00:00:00.000Z", "1970-01-01T00:00:00.000Z"],
    // WEEK starts Monday 00:00 UTC: 2024-03-11 and 2024-03-18 are Mondays.
    ["WEEK", "2024-03-11T00:00:00.000Z", "2024-03-11T00:00:00.000Z", "2024-03-18T00:00:00.000Z"],
    ["WEEK", "2024-03-13T10:30:00.000Z", "2024-03-11T00:00:00.000Z", "2024-03-18T00:00:00.000Z"],
    ["WEEK", "2024-03-17T23:59:59.999Z", "2024-03-11T00:00:00.000Z", "2024-03-18T00:00:00.000Z"],
    ["WEEK", "2024-03-18T00:00:00.000Z", "2024-03-18T00:00:00.000Z", "2024-03-25T00:00:00.000Z"],
    ["WEEK", "2025-01-01T08:00:00.000Z", "2024-12-30T00:00:00.000Z", "2025-01-06T00:00:00.000Z"],
    ["WEEK", "1970-01-01T00:00:00.000Z", "1969-12-29T00:00:00.000Z", "1970-01-05T00:00:00.000Z"],
    ["MONTH", "2024-02-29T23:59:59.999Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
    ["MONTH", "2023-02-28T23:59:59.999Z", "2023-02-01T00:00:00.000Z", "2023-03-01T00:00:00.000Z"],
    ["MONTH", "2024-03-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z", "2024-04-01T00:00:00.000Z"],
    ["MONTH", "2024-04-30T23:59:59.999Z", "2024-04-01T00:00:00.000Z", "2024-05-01T00:00:00.000Z"],
    ["MONTH", "2024-01-31T12:00:00.000Z", "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"],
    ["MONTH", "2024-12-31T23:59:59.999Z", "2024-12-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"],
    ["MONTH", "0050-06-15T00:00:00.000Z", "0050-06-01T00:00:00.000Z", "0050-07-01T00:00:00.000Z"],
  ] as [CapWindow, string, string, string][])("%s at %s is [%s, %s)", (window, now, start, end) => {
    const bounds = windowBounds(window, at(now));
    expect(bounds.start.toISOString()).toBe(start);
    expect(bounds.end?.toISOString()).toBe(end);
  });

  it("TOTAL starts at the epoch and never ends", () => {
    const bounds = windowBounds("TOTAL", at("2024-03-13T10:30:00.000Z"));
    expect(bounds).toEqual({ start: new Date(0), end: null });
  });

  it("rejects an invalid date", () => {
    expect(() => windowBounds("DAY", new Date("nope"))).toThrow(RangeError);
  });
});

describe("capKey", () => {
  const request = { agentId: "a1", ownerId: "u1" };
  it.each([
    ["AGENT", "HOUR", "2024-03-13T10:59:59.999Z", "AGENT/HOUR/2024-03-13T10:00:00.000Z/a1"],
    ["OWNER", "DAY", "2024-03-13T00:00:00.000Z", "OWNER/DAY/2024-03-13T00:00:00.000Z/u1"],
    ["GLOBAL", "WEEK", "2024-03-17T23:59:59.999Z", "GLOBAL/WEEK/2024-03-11T00:00:00.000Z/global"],
    ["AGENT", "MONTH", "2024-02-29T23:59:59.999Z", "AGENT/MONTH/2024-02-01T00:00:00.000Z/a1"],
    ["OWNER", "TOTAL", "2024-02-29T23:59:59.999Z", "OWNER/TOTAL/TOTAL/u1"],
  ] as const)("%s %s at %s", (per, window, now, expected) => {
    const key = capKey({ per, window }, request, at(now));
    expect(serializeCapKey(key)).toBe(expected);
  });

  it("two instants of one window share a key; the next instant after it does not", () => {
    const key = (iso: string) => serializeCapKey(capKey({ per: "AGENT", window: "WEEK" }, request, at(iso)));
    expect(key("2024-03-11T00:00:00.000Z")).toBe(key("2024-03-17T23:59:59.999Z"));
    expect(key("2024-03-18T00:00:00.000Z")).not.toBe(key("2024-03-17T23:59:59.999Z"));
  });
});

describe("evaluate at window boundaries", () => {
  const chain = (window: CapWindow): Policy[] => [
    {
      id: "g",
      version: 1,
      name: "Baseline",
      scope: "GLOBAL",
      scopeId: null,
      enabled: true,
      mode: "ENFORCE",
      authority: "OVERRIDE",
      rules: [{ id: "all", pattern: "*", effect: "ALLOW", locked: false }],
      caps: [{ id: "c", per: "AGENT", window, limit: 10n, locked: false }],
    },
  ];
  const req = { agentId: "a1", ownerId: "u1", ownerRoles: [], action: "llm.completion", estimatedCost: 1n };

  it.each([
    ["HOUR", "2024-03-13T10:59:59.999Z", "2024-03-13T11:00:00.000Z"],
    ["DAY", "2024-03-13T23:59:59.999Z", "2024-03-14T00:00:00.000Z"],
    ["WEEK", "2024-03-17T23:59:59.999Z", "2024-03-18T00:00:00.000Z"],
    ["MONTH", "2024-02-29T23:59:59.999Z", "2024-03-01T00:00:00.000Z"],
  ] as [CapWindow, string, string][])("%s: full at %s, fresh at %s", (window, last, next) => {
    const full = new Map([[serializeCapKey(capKey({ per: "AGENT", window }, req, at(last))), 10n]]);
    expect(evaluate(chain(window), req, full, at(last)).outcome).toBe("DENIED");
    const fresh = evaluate(chain(window), req, full, at(next));
    expect(fresh.outcome).toBe("ALLOWED");
    expect(fresh.caps[0]).toMatchObject({ windowStart: next, spentBefore: 0n, spentAfter: 1n });
  });

  it("TOTAL never resets", () => {
    const full = new Map([[serializeCapKey(capKey({ per: "AGENT", window: "TOTAL" }, req, at("2020-01-01T00:00:00.000Z"))), 10n]]);
    expect(evaluate(chain("TOTAL"), req, full, at("2030-01-01T00:00:00.000Z")).outcome).toBe("DENIED");
  });
});
