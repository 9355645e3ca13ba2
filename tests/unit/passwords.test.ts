import { describe, expect, it } from "vitest";
import { assertPasswordShape, createPasswordHasher, MAX_PASSWORD_BYTES } from "../../src/auth/passwords";
import { UserInputError } from "../../src/errors/errors";

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("assertPasswordShape", () => {
  it("accepts 8 characters and rejects 7", () => {
    expect(() => assertPasswordShape("abcdefgh")).not.toThrow();
    expect(() => assertPasswordShape("abcdefg")).toThrow(UserInputError);
  });

  it("counts code points, not UTF-16 units", () => {
    // 7 emoji are 14 UTF-16 units but only 7 characters.
    expect(() => assertPasswordShape("😀".repeat(7))).toThrow(/at least 8 characters/);
    expect(() => assertPasswordShape("😀".repeat(8))).not.toThrow();
  });

  it("limits by bytes: a 72-byte multibyte password passes, 73 bytes fails", () => {
    const seventyTwo = "€".repeat(24); // 3 bytes each
    expect(Buffer.byteLength(seventyTwo, "utf8")).toBe(72);
    expect(() => assertPasswordShape(seventyTwo)).not.toThrow();
    const seventyThree = `${seventyTwo}a`;
    expect(() => assertPasswordShape(seventyThree)).toThrow(UserInputError);
  });

  it("an ASCII password of 72 passes and 73 fails", () => {
    expect(() => assertPasswordShape("a".repeat(MAX_PASSWORD_BYTES))).not.toThrow();
    expect(() => assertPasswordShape("a".repeat(MAX_PASSWORD_BYTES + 1))).toThrow(UserInputError);
  });

  it("the too-long error names 72 bytes and the field, never the password", () => {
    const password = `Tr0ub4dor&3-${"x".repeat(70)}`;
    const error = catchError(() => assertPasswordShape(password, "newPassword")) as UserInputError;
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toMatch(/72 bytes/);
    expect(error.field).toBe("newPassword");
    expect(error.extensions.code).toBe("BAD_USER_INPUT");
    expect(error.message).not.toContain("Tr0ub4dor");
  });

  it("the too-short error does not echo the password and defaults the field", () => {
    const error = catchError(() => assertPasswordShape("Zq9!xy")) as UserInputError;
    expect(error.field).toBe("password");
    expect(error.message).not.toContain("Zq9!xy");
  });
});

describe("createPasswordHasher (cost 4)", () => {
  const hasher = createPasswordHasher(4);

  it("verifies the password it hashed and refuses a wrong one", async () => {
    const hash = await hasher.hash("correct horse battery");
    expect(hash).not.toContain("correct horse battery");
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await hasher.verify("correct horse battery", hash)).toBe(true);
    expect(await hasher.verify("correct horse battery!", hash)).toBe(false);
    expect(await hasher.verify("Correct horse battery", hash)).toBe(false);
  });

  it("returns false for a missing hash", async () => {
    expect(await hasher.verify("any password", null)).toBe(false);
    expect(await hasher.verify("any password", "")).toBe(false);
  });

  it("returns false (does not throw) for a malformed hash", async () => {
    await expect(hasher.verify("any password", "not-a-bcrypt-hash")).resolves.toBe(false);
  });

  it("never verifies a password over 72 bytes, even when its first 72 bytes match", async () => {
    const first72 = "p".repeat(72);
    const hash = await hasher.hash(first72);
    expect(await hasher.verify(first72, hash)).toBe(true);
    expect(await hasher.verify(`${first72}extra`, hash)).toBe(false);
    expect(await hasher.verify(`${first72}extra`, null)).toBe(false);
  });

  it("never verifies a multibyte password over 72 bytes whose first 72 bytes match", async () => {
    const first72 = "€".repeat(24);
    const hash = await hasher.hash(first72);
    expect(await hasher.verify(first72, hash)).toBe(true);
    expect(await hasher.verify(`${first72}€`, hash)).toBe(false);
  });
});
