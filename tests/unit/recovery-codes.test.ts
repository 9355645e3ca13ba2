import { describe, expect, it } from "vitest";
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
} from "../../src/auth/recovery-codes";

const FORMAT = /^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/;

describe("generateRecoveryCodes", () => {
  it("makes ten well-formed, unique codes by default", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
  });

  it("makes the requested number and refuses nonsense counts", () => {
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    for (const count of [0, -1, 1.5, 101, Number.NaN]) expect(() => generateRecoveryCodes(count)).toThrow(RangeError);
  });

  it("uses no look-alike characters", () => {
    const text = generateRecoveryCodes(100).join("");
    expect(text).not.toMatch(/[01ilo]/);
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[01ilo]/);
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(RECOVERY_CODE_ALPHABET.length);
  });

  it("carries at least 60 bits per code", () => {
    const [code] = generateRecoveryCodes(1);
    const symbols = normalizeRecoveryCode(code as string).length;
    expect(symbols * Math.log2(RECOVERY_CODE_ALPHABET.length)).toBeGreaterThanOrEqual(60);
  });

  it("draws every symbol of the alphabet (no symbol is left out by a biased draw)", () => {
    const seen = new Set(generateRecoveryCodes(100).join("").replace(/-/g, ""));
    expect([...seen].sort().join("")).toBe([...RECOVERY_CODE_ALPHABET].sort().join(""));
  });

  it("does not repeat across batches", () => {
    const all = [...generateRecoveryCodes(100), ...generateRecoveryCodes(100)];
    expect(new Set(all).size).toBe(200);
  });
});

describe("normalizeRecoveryCode", () => {
  it("lower-cases and strips spaces and dashes", () => {
    expect(normalizeRecoveryCode(" K7Q2M-9XP4T - de8hw\t")).toBe("k7q2m9xp4tde8hw");
    expect(normalizeRecoveryCode("k7q2m9xp4tde8hw")).toBe("k7q2m9xp4tde8hw");
  });
});

describe("hashRecoveryCode", () => {
  it("hashes every typed form of a code alike, as base64url SHA-256", () => {
    const [code] = generateRecoveryCodes(1) as [string];
    const hash = hashRecoveryCode(code);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashRecoveryCode(code.toUpperCase())).toBe(hash);
    expect(hashRecoveryCode(code.replace(/-/g, " "))).toBe(hash);
    expect(hashRecoveryCode(normalizeRecoveryCode(code))).toBe(hash);
  });

  it("differs between codes and does not contain the code", () => {
    const [a, b] = generateRecoveryCodes(2) as [string, string];
    expect(hashRecoveryCode(a)).not.toBe(hashRecoveryCode(b));
    expect(hashRecoveryCode(a)).not.toContain(normalizeRecoveryCode(a));
  });
});
