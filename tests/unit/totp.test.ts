import { describe, expect, it } from "vitest";
import { generateTotpSecret, totpCodeAt, totpStepAt, totpUri, verifyTotp } from "../../src/auth/totp";

const NOW = new Date("2026-03-01T12:00:10Z");
const STEP = totpStepAt(NOW);
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000);

describe("generateTotpSecret", () => {
  it("is 160 bits of base32 (32 characters, no padding), different each time", () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(secret);
  });
});

describe("totpCodeAt", () => {
  it("matches RFC 6238 test vectors (SHA-1, 30 s steps) truncated to 6 digits", () => {
    // The RFC's SHA-1 seed "12345678901234567890" in base32.
    const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect(totpCodeAt(rfcSecret, new Date(59_000))).toBe("287082");
    expect(totpCodeAt(rfcSecret, new Date(1_111_111_109_000))).toBe("081804");
    expect(totpCodeAt(rfcSecret, new Date(2_000_000_000_000))).toBe("279037");
  });
});

describe("verifyTotp", () => {
  const secret = generateTotpSecret();

  it("accepts the code shown now and returns its step", () => {
    expect(verifyTotp(secret, totpCodeAt(secret, NOW), NOW, null)).toEqual({ ok: true, step: STEP });
  });

  it("accepts the previous and the next step (clock drift), reporting the matched step", () => {
    expect(verifyTotp(secret, totpCodeAt(secret, at(-30)), NOW, null)).toEqual({ ok: true, step: STEP - 1 });
    expect(verifyTotp(secret, totpCodeAt(secret, at(30)), NOW, null)).toEqual({ ok: true, step: STEP + 1 });
  });

  it("refuses codes two steps away", () => {
    expect(verifyTotp(secret, totpCodeAt(secret, at(-60)), NOW, null)).toEqual({ ok: false });
    expect(verifyTotp(secret, totpCodeAt(secret, at(60)), NOW, null)).toEqual({ ok: false });
  });

  it("refuses a replay of the same step", () => {
    const code = totpCodeAt(secret, NOW);
    const first = verifyTotp(secret, code, NOW, null);
    expect(first).toEqual({ ok: true, step: STEP });
    expect(verifyTotp(secret, code, at(5), STEP)).toEqual({ ok: false });
  });

  it("refuses an older step once a newer one was used, but accepts a newer one", () => {
    expect(verifyTotp(secret, totpCodeAt(secret, at(-30)), NOW, STEP)).toEqual({ ok: false });
    expect(verifyTotp(secret, totpCodeAt(secret, at(30)), NOW, STEP)).toEqual({ ok: true, step: STEP + 1 });
  });

  it("refuses everything, without throwing, when the last used step is at or past the window", () => {
    expect(verifyTotp(secret, totpCodeAt(secret, at(30)), NOW, STEP + 1)).toEqual({ ok: false });
    expect(verifyTotp(secret, totpCodeAt(secret, NOW), NOW, STEP + 50)).toEqual({ ok: false });
  });

  it("normalises spaces in the code", () => {
    const code = totpCodeAt(secret, NOW);
    expect(verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, NOW, null)).toEqual({ ok: true, step: STEP });
    expect(verifyTotp(secret, ` ${code}\t`, NOW, null)).toEqual({ ok: true, step: STEP });
  });

  it("refuses anything but six digits without throwing", () => {
    const code = totpCodeAt(secret, NOW);
    for (const bad of ["", "abcdef", "12345", "1234567", `${code}0`, code.slice(1), `${code.slice(0, 5)}x`, "１２３４５６", "-12345"]) {
      expect(verifyTotp(secret, bad, NOW, null)).toEqual({ ok: false });
    }
  });

  it("refuses a code made from another secret", () => {
    expect(verifyTotp(secret, totpCodeAt(generateTotpSecret(), NOW), NOW, null).ok).toBe(false);
  });
});

describe("totpUri", () => {
  it("is an otpauth://totp URI with the secret, issuer and account encoded", () => {
    const secret = generateTotpSecret();
    const uri = totpUri(secret, "ada+mfa@example.com", "Agent Identity & Co");
    const url = new URL(uri);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname.slice(1))).toBe("Agent Identity & Co:ada+mfa@example.com");
    expect(url.pathname).toContain("Agent%20Identity%20%26%20Co:ada%2Bmfa%40example.com");
    expect(url.searchParams.get("secret")).toBe(secret);
    expect(url.searchParams.get("issuer")).toBe("Agent Identity & Co");
    expect(uri).not.toMatch(/algorithm=|digits=|period=/);
  });

  it("refuses a ':' in the account or issuer", () => {
    const secret = generateTotpSecret();
    expect(() => totpUri(secret, "a:b", "Agent Identity")).toThrow(/':'/);
    expect(() => totpUri(secret, "ada", "Agent:Identity")).toThrow(/':'/);
  });
});
