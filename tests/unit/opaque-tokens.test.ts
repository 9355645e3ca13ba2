import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  deriveSuccessor,
  formatOpaqueToken,
  generateOpaqueToken,
  hashSecret,
  parseOpaqueToken,
  secretMatches,
} from "../../src/auth/opaque-tokens";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe("generate / format / parse", () => {
  it("round-trips a generated token", () => {
    const token = generateOpaqueToken();
    const text = formatOpaqueToken(token);
    expect(text).toBe(`${token.id}.${token.secret}`);
    expect(parseOpaqueToken(text)).toEqual(token);
  });

  it("generates base64url ids of 128 bits and secrets of 256 bits, different each time", () => {
    const a = generateOpaqueToken();
    const b = generateOpaqueToken();
    expect(a.id).toMatch(BASE64URL);
    expect(a.secret).toMatch(BASE64URL);
    expect(Buffer.from(a.id, "base64url")).toHaveLength(16);
    expect(Buffer.from(a.secret, "base64url")).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(a.secret).not.toBe(b.secret);
  });

  it.each([
    ["no dot", "abcdef"],
    ["two dots", "abc.def.ghi"],
    ["empty id", ".def"],
    ["empty secret", "abc."],
    ["only a dot", "."],
    ["empty string", ""],
    ["illegal character", "abc.de+f"],
    ["padding", "abc.def="],
    ["whitespace", "abc.def "],
    ["slash", "ab/c.def"],
  ])("rejects %s", (_label, text) => {
    expect(parseOpaqueToken(text)).toBeUndefined();
  });

  it("accepts 200 characters and rejects 201", () => {
    const at200 = `${"a".repeat(100)}.${"b".repeat(99)}`;
    const at201 = `${"a".repeat(100)}.${"b".repeat(100)}`;
    expect(at200).toHaveLength(200);
    expect(parseOpaqueToken(at200)).toEqual({ id: "a".repeat(100), secret: "b".repeat(99) });
    expect(parseOpaqueToken(at201)).toBeUndefined();
  });
});

describe("hashSecret / secretMatches", () => {
  it("stores something other than the secret, and matches only the right secret", () => {
    const { secret } = generateOpaqueToken();
    const stored = hashSecret(secret);
    expect(stored).not.toBe(secret);
    expect(stored).not.toContain(secret);
    expect(stored).toBe(crypto.createHash("sha256").update(secret).digest("base64url"));
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(generateOpaqueToken().secret, stored)).toBe(false);
    expect(secretMatches(`${secret}x`, stored)).toBe(false);
  });

  it("returns false rather than throwing for a stored hash of another length", () => {
    const { secret } = generateOpaqueToken();
    expect(secretMatches(secret, "short")).toBe(false);
    expect(secretMatches(secret, "")).toBe(false);
  });
});

describe("deriveSuccessor", () => {
  const key = Buffer.alloc(32, 1);
  const otherKey = Buffer.alloc(32, 2);
  const parent = { id: "parentId_AAAAAAAAAAAAAA", secret: "parentSecret-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" };

  it("is deterministic for the same key and parent", () => {
    expect(deriveSuccessor(key, parent)).toEqual(deriveSuccessor(Buffer.from(key), { ...parent }));
  });

  it("differs for another key", () => {
    const a = deriveSuccessor(key, parent);
    const b = deriveSuccessor(otherKey, parent);
    expect(b.id).not.toBe(a.id);
    expect(b.secret).not.toBe(a.secret);
  });

  it("differs for another parent (id or secret)", () => {
    const a = deriveSuccessor(key, parent);
    const otherSecret = deriveSuccessor(key, { ...parent, secret: `${parent.secret.slice(0, -1)}C` });
    const otherId = deriveSuccessor(key, { ...parent, id: `${parent.id.slice(0, -1)}C` });
    expect(otherSecret.secret).not.toBe(a.secret);
    expect(otherSecret.id).not.toBe(a.id);
    expect(otherId.secret).not.toBe(a.secret);
    expect(otherId.id).not.toBe(a.id);
  });

  it("yields a well-formed token with a 256-bit secret, distinct from its parent", () => {
    const successor = deriveSuccessor(key, parent);
    expect(successor.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(successor.secret, "base64url")).toHaveLength(32);
    expect(successor.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // The id (stored in clear) must not reveal the start of the secret.
    expect(successor.id.slice(0, 21)).not.toBe(successor.secret.slice(0, 21));
    expect(successor).not.toEqual(parent);
    expect(parseOpaqueToken(formatOpaqueToken(successor))).toEqual(successor);
  });
});
