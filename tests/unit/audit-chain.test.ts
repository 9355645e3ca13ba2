import crypto from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  asStoredJson,
  canonicalAuditContent,
  checkChainedRow,
  hashAuditContent,
  type AuditContent,
  type ChainedRow,
} from "../../src/audit/audit-chain";

const content = (overrides: Partial<AuditContent> = {}): AuditContent => ({
  id: "3f1c8f6e-8d52-4d4a-9d3b-0d8e8a0c2f11",
  occurredAt: new Date("2025-01-02T03:04:05.678Z"),
  actorType: "user",
  actorId: "u-1",
  action: "auth.login.succeeded",
  targetType: "session",
  targetId: "s-1",
  outcome: "success",
  ip: "127.0.0.1",
  userAgent: "vitest",
  requestId: "req-1",
  details: { b: 1, a: { d: [1, { z: true, y: null }], c: "x" } },
  ...overrides,
});

/** Builds a well-formed chain of n rows, as the recorder would. */
function chain(n: number): ChainedRow[] {
  const rows: ChainedRow[] = [];
  let prev: string | null = null;
  for (let i = 0; i < n; i += 1) {
    const row = content({ id: crypto.randomUUID(), details: { i } });
    const hash = hashAuditContent(prev, row);
    rows.push({ ...row, seq: BigInt(i + 1), prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

/** Walks rows as the repository does, returning the first broken row's index and reason. */
function walk(rows: ChainedRow[]): { index: number; reason: string } | null {
  let expected: string | null = null;
  for (const [index, row] of rows.entries()) {
    const reason = checkChainedRow(expected, row);
    if (reason) return { index, reason };
    expected = row.hash;
  }
  return null;
}

describe("canonical serialization", () => {
  it("is a JSON array of the fields in a fixed order, details keys sorted at every depth", () => {
    expect(JSON.parse(canonicalAuditContent(content()))).toEqual([
      "audit-v1",
      "3f1c8f6e-8d52-4d4a-9d3b-0d8e8a0c2f11",
      "2025-01-02T03:04:05.678Z",
      "user",
      "u-1",
      "auth.login.succeeded",
      "session",
      "s-1",
      "success",
      "127.0.0.1",
      "vitest",
      "req-1",
      { a: { c: "x", d: [1, { y: null, z: true }] }, b: 1 },
    ]);
    expect(canonicalAuditContent(content())).toContain('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it("does not depend on the key order of details (as jsonb returns them reordered)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (details) => {
        const reversed = Object.fromEntries(Object.entries(details).reverse());
        expect(canonicalAuditContent(content({ details: reversed }))).toBe(canonicalAuditContent(content({ details })));
      }),
    );
  });

  it("hashes what a jsonb column gives back: dates as strings, undefined members dropped", () => {
    const at = new Date("2025-05-05T05:05:05.005Z");
    const written = content({ details: { at, gone: undefined, n: 1 } });
    const readBack = content({ details: asStoredJson({ at, gone: undefined, n: 1 }) });
    expect(readBack.details).toEqual({ at: "2025-05-05T05:05:05.005Z", n: 1 });
    expect(hashAuditContent(null, written)).toBe(hashAuditContent(null, readBack));
  });

  it("tells apart values that a naive concatenation would merge", () => {
    const a = content({ targetType: "ab", targetId: "c" });
    const b = content({ targetType: "a", targetId: "bc" });
    const nul = content({ actorId: null });
    const text = content({ actorId: "null" });
    expect(hashAuditContent(null, a)).not.toBe(hashAuditContent(null, b));
    expect(hashAuditContent(null, nul)).not.toBe(hashAuditContent(null, text));
  });
});

describe("the hash", () => {
  it("is SHA-256 hex over the previous hash (empty for the first row) and the canonical content", () => {
    const c = content();
    const first = crypto.createHash("sha256").update(canonicalAuditContent(c)).digest("hex");
    expect(hashAuditContent(null, c)).toBe(first);
    const second = crypto.createHash("sha256").update(`${first}${canonicalAuditContent(c)}`).digest("hex");
    expect(hashAuditContent(first, c)).toBe(second);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with any field", () => {
    const base = hashAuditContent(null, content());
    for (const [field, value] of Object.entries({
      id: crypto.randomUUID(),
      occurredAt: new Date("2025-01-02T03:04:05.679Z"),
      actorType: "system",
      actorId: "u-2",
      action: "auth.logout",
      targetType: "user",
      targetId: "s-2",
      outcome: "failure",
      ip: "10.0.0.1",
      userAgent: "other",
      requestId: "req-2",
      details: { b: 2, a: { d: [1, { z: true, y: null }], c: "x" } },
    })) {
      expect(hashAuditContent(null, content({ [field]: value })), field).not.toBe(base);
    }
  });
});

describe("checking a chain", () => {
  it("accepts a well-formed chain", () => {
    expect(walk(chain(10))).toBeNull();
  });

  it("names an edited row hash_mismatch", () => {
    const rows = chain(10);
    rows[4] = { ...(rows[4] as ChainedRow), action: "tampered" };
    expect(walk(rows)).toEqual({ index: 4, reason: "hash_mismatch" });
  });

  it("names the row after a removed one prev_mismatch", () => {
    const rows = chain(10);
    rows.splice(4, 1);
    expect(walk(rows)).toEqual({ index: 4, reason: "prev_mismatch" });
  });

  it("names the row after one that was edited and re-hashed prev_mismatch", () => {
    const rows = chain(10);
    const edited = { ...(rows[4] as ChainedRow), action: "tampered" };
    rows[4] = { ...edited, hash: hashAuditContent(edited.prevHash, edited) };
    expect(walk(rows)).toEqual({ index: 5, reason: "prev_mismatch" });
  });

  it("names a removed first row: the new first row claims a predecessor", () => {
    expect(walk(chain(5).slice(1))).toEqual({ index: 0, reason: "prev_mismatch" });
  });

  it("names a row without a hash unchained", () => {
    const rows = chain(5);
    rows[2] = { ...(rows[2] as ChainedRow), hash: null, prevHash: null };
    expect(walk(rows)).toEqual({ index: 2, reason: "unchained" });
  });
});
