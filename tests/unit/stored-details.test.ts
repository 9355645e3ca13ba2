import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asStoredJson, canonicalAuditContent, canonicalOfStored, type AuditContent } from "../../src/audit/audit-chain";
import { cleanText, storedDetails } from "../../src/audit/stored-details";

/**
 * What the recorder stores, by definition: a cleaning copy (strings and keys cleaned), then
 * the JSON round trip jsonb gives. storedDetails must equal it (keys aside, which it sorts)
 * and hash alike, or the verifier would flag rows the recorder wrote.
 */
function storedByDefinition(value: unknown): unknown {
  const cleaned = (inner: unknown): unknown => {
    if (typeof inner === "string") return cleanText(inner);
    if (Array.isArray(inner)) return inner.map(cleaned);
    if (inner && typeof inner === "object" && !(inner instanceof Date)) {
      return Object.fromEntries(Object.entries(inner).map(([key, member]) => [cleanText(key), cleaned(member)]));
    }
    return inner;
  };
  return asStoredJson(cleaned(value));
}

const content = (details: unknown): AuditContent => ({
  id: "3f1c8f6e-8d52-4d4a-9d3b-0d8e8a0c2f11",
  occurredAt: new Date("2025-01-02T03:04:05.678Z"),
  actorType: "agent",
  actorId: "a-1",
  action: "agent.action.decided",
  targetType: "agent_action",
  targetId: "x-1",
  outcome: "success",
  ip: null,
  userAgent: null,
  requestId: "req-1",
  details,
});

/** Strings with the characters cleaning touches: controls, surrogate halves, long runs. */
const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("a\u0000b", "\uD800", "x\uDC00y", "😀", "\u007f", "tab\there", "a".repeat(600), `${"b".repeat(511)}😀`),
);
const leaf = fc.oneof(
  awkwardString,
  fc.double(),
  fc.integer(),
  fc.constant(-0),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
);
const details = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(awkwardString, fc.constantFrom("10", "9", "a\u0001", "a\u0002")), tie("value"), { maxKeys: 6 }),
})).object;

describe("storedDetails", () => {
  it("is the stored form of the details (cleaned, as jsonb returns them), in one walk", () => {
    fc.assert(
      fc.property(details, (value) => {
        expect(storedDetails(value)).toEqual(storedByDefinition(value));
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it("hashes alike: the recorder's canonical text is the one the verifier computes from the stored row", () => {
    fc.assert(
      fc.property(details, (value) => {
        const stored = storedDetails(value);
        // The verifier reads the row back from jsonb, in whatever key order, and sorts it itself.
        const readBack = JSON.parse(JSON.stringify(stored)) as unknown;
        expect(canonicalOfStored(content(stored))).toBe(canonicalAuditContent(content(readBack)));
        expect(canonicalOfStored(content(stored))).toBe(canonicalAuditContent(content(storedByDefinition(value))));
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it("drops a member whose key cleans like an earlier one's when the later one is undefined, as a copy would", () => {
    expect(storedDetails({ "a\u0001": 1, "a\u0002": undefined, b: [undefined, () => 1, Number.NaN] })).toEqual({ b: [null, null, null] });
    expect(storedDetails({ when: new Date("2025-01-02T03:04:05.678Z"), n: -0 })).toEqual({ n: 0, when: "2025-01-02T03:04:05.678Z" });
    // Members JSON leaves out are left out whatever the keys: clean ones and ones cleaning changes.
    expect(JSON.stringify(storedDetails({ c: () => 1, a: Symbol("s"), b: undefined, d: 1 }))).toBe('{"d":1}');
    expect(JSON.stringify(storedDetails({ "c\u0001": () => 1, a: Symbol("s"), d: 1 }))).toBe('{"d":1}');
  });

  it("keeps a member named __proto__ as a member, as JSON does", () => {
    const value = JSON.parse('{"a":{"__proto__":[1]}}') as unknown;
    expect(JSON.stringify(storedDetails(value))).toBe('{"a":{"__proto__":[1]}}');
  });

  it("refuses a bigint, as JSON does (amounts are written as text)", () => {
    expect(() => storedDetails({ amount: 5n })).toThrow(TypeError);
  });
});
