import { describe, expect, it } from "vitest";
import {
  checkPasswordPolicy,
  DEFAULT_PASSWORD_POLICY,
  parsePasswordClasses,
  passwordStrength,
  type PasswordPolicy,
} from "../../src/auth/password-policy";
import { UserInputError } from "../../src/errors/errors";

type Context = { email?: string | null; username?: string | null };

const NO_CONTEXT: Context = {};
const ADA: Context = { email: "ada.lovelace@x.io", username: "countess" };
const ALL_CLASSES: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY, requireClasses: ["lower", "upper", "digit", "symbol"] };

function refusal(password: string, context: Context = NO_CONTEXT, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY, field?: string) {
  try {
    checkPasswordPolicy(password, context, policy, field);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    const inputError = error as UserInputError;
    expect(inputError.message).not.toContain(password);
    expect(inputError.message.toLowerCase()).not.toContain(password.toLowerCase());
    return inputError;
  }
  throw new Error("expected the password to be refused");
}

function accepts(password: string, context: Context = NO_CONTEXT, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY) {
  expect(() => checkPasswordPolicy(password, context, policy)).not.toThrow();
}

/** 24 distinct CJK ideographs, 3 UTF-8 bytes each: 72 bytes, neither repeated nor a sequence. */
const SEVENTY_TWO_BYTES = Array.from({ length: 24 }, (_, i) => String.fromCodePoint(0x4e00 + i * 7)).join("");

describe("DEFAULT_PASSWORD_POLICY", () => {
  it("is 10 characters, no classes, common and personal info forbidden", () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({ minLength: 10, requireClasses: [], forbidCommon: true, forbidPersonalInfo: true });
    expect(Object.isFrozen(DEFAULT_PASSWORD_POLICY)).toBe(true);
  });
});

describe("checkPasswordPolicy: passing", () => {
  it("accepts a strong passphrase, also with an email and username in context", () => {
    accepts("vivid otter plays the cello");
    accepts("vivid otter plays the cello", ADA);
  });

  it("accepts a password with every class when every class is required", () => {
    accepts("Quiet-Lantern-42", ADA, ALL_CLASSES);
  });

  it("accepts null or missing context fields", () => {
    accepts("vivid otter plays the cello", { email: null, username: null });
  });
});

describe("checkPasswordPolicy: length", () => {
  it("refuses fewer than minLength characters and names the rule", () => {
    expect(refusal("Quokka-7x").message).toBe("Password must be at least 10 characters");
    accepts("Quokka-7x9");
  });

  it("counts code points, not UTF-16 units", () => {
    const nineEmoji = "😀🎻🦦🌙🍋🚲🧭🪁🎲"; // 9 code points, 18 UTF-16 units
    expect(nineEmoji.length).toBe(18);
    expect(refusal(nineEmoji).message).toMatch(/at least 10 characters/);
    accepts(`${nineEmoji}🪴`);
  });

  it("follows a configured minimum", () => {
    const policy = { ...DEFAULT_PASSWORD_POLICY, minLength: 16 };
    expect(refusal("vivid otter cell", NO_CONTEXT, { ...policy, minLength: 17 }).message).toMatch(/at least 17 characters/);
    accepts("vivid otter cell", NO_CONTEXT, policy);
  });

  it("accepts a 72-byte multibyte password and refuses 73 bytes", () => {
    expect(Buffer.byteLength(SEVENTY_TWO_BYTES, "utf8")).toBe(72);
    accepts(SEVENTY_TWO_BYTES);
    const seventyThree = `${SEVENTY_TWO_BYTES}a`;
    expect(refusal(seventyThree).message).toBe("Password must be at most 72 bytes (bcrypt's limit)");
  });
});

describe("checkPasswordPolicy: character classes", () => {
  it.each([
    ["lower", "QUIET-LANTERN-42", "Password must contain a lowercase letter"],
    ["upper", "quiet-lantern-42", "Password must contain an uppercase letter"],
    ["digit", "Quiet-Lantern-xy", "Password must contain a digit"],
    ["symbol", "QuietLantern42x", "Password must contain a symbol (a character that is not a letter or digit)"],
  ] as const)("refuses a password without a %s character", (name, password, message) => {
    expect(refusal(password, NO_CONTEXT, { ...DEFAULT_PASSWORD_POLICY, requireClasses: [name] }).message).toBe(message);
    expect(() => checkPasswordPolicy(password, NO_CONTEXT, DEFAULT_PASSWORD_POLICY)).not.toThrow();
  });

  it("counts non-ASCII letters and spaces", () => {
    accepts("ÉCLAIR über alles 7", NO_CONTEXT, ALL_CLASSES);
  });
});

describe("checkPasswordPolicy: common and predictable passwords", () => {
  it("refuses Password123! as common (trailing digits and symbols stripped)", () => {
    expect(refusal("Password123!").message).toBe("Password is too common (found in lists of breached passwords)");
  });

  it.each(["qwertyuiop", "Sunshine2024", "iloveyou!!!", "2024dragon!!", "monkey_12345"])("refuses %s as common", (password) => {
    expect(refusal(password).message).toMatch(/too common/);
  });

  it.each(["aaaaaaaaaaaa", "ÄÄÄÄÄÄÄÄÄÄ", "abcdefghijkl", "ZYXWVUTSRQ", "1234567890", "0987654321", "abcabcabcabc", "12121212121212"])(
    "refuses %s as a repeated character, pattern or sequence",
    (password) => {
      expect(refusal(password).message).toBe(
        "Password must not be a single repeated character, a short repeated pattern or a simple sequence",
      );
    },
  );

  it("does not strip a short core down to a listed word", () => {
    // "abc" is not checked after stripping: the digits carry the weight here.
    accepts("abc9035718264");
  });

  it("allows them all when forbidCommon is off", () => {
    const policy = { ...DEFAULT_PASSWORD_POLICY, forbidCommon: false };
    for (const password of ["Password123!", "qwertyuiop", "abcdefghijkl", "aaaaaaaaaaaa"]) accepts(password, NO_CONTEXT, policy);
  });
});

describe("checkPasswordPolicy: personal information", () => {
  it("refuses Ada.Lovelace.1815 for ada.lovelace@x.io", () => {
    expect(refusal("Ada.Lovelace.1815", { email: "ada.lovelace@x.io" }).message).toBe(
      "Password must not contain your email or username",
    );
  });

  it("ignores case and separators", () => {
    expect(refusal("ADALOVELACE-rocks-9", { email: "ada.lovelace@x.io" }).message).toMatch(/email or username/);
    expect(refusal("Ada_Lovelace_rocks", { email: "ada.lovelace@x.io" }).message).toMatch(/email or username/);
  });

  it("refuses the part of the local part before a +tag", () => {
    expect(refusal("zorblax forever 42", { email: "zorblax+news@x.io" }).message).toMatch(/email or username/);
  });

  it("refuses the username", () => {
    expect(refusal("the-Countess-of-1815", ADA).message).toMatch(/email or username/);
    expect(refusal("xX_zorblax_Xx-42", { username: "Zorblax" }).message).toMatch(/email or username/);
  });

  it("ignores local parts and usernames shorter than 3 characters", () => {
    accepts("always alert walrus", { email: "al@x.io", username: "wa" });
  });

  it("does not look at the email domain", () => {
    accepts("example walrus rides", { email: "zorblax@example.com" });
  });

  it("allows it when forbidPersonalInfo is off", () => {
    accepts("Ada.Lovelace.1815", ADA, { ...DEFAULT_PASSWORD_POLICY, forbidPersonalInfo: false });
  });
});

describe("checkPasswordPolicy: errors", () => {
  it("names the given field and carries BAD_USER_INPUT", () => {
    const error = refusal("short", NO_CONTEXT, DEFAULT_PASSWORD_POLICY, "newPassword");
    expect(error.field).toBe("newPassword");
    expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "newPassword" });
  });

  it("defaults the field to password", () => {
    expect(refusal("short").field).toBe("password");
  });

  it("never puts the password in any message", () => {
    const cases: [string, Context, PasswordPolicy][] = [
      ["Tr0ub4dor", NO_CONTEXT, DEFAULT_PASSWORD_POLICY],
      [`Tr0ub4dor&3${"é".repeat(40)}`, NO_CONTEXT, DEFAULT_PASSWORD_POLICY],
      ["tr0ub4dor&3xyz", NO_CONTEXT, ALL_CLASSES],
      ["Password123!", NO_CONTEXT, DEFAULT_PASSWORD_POLICY],
      ["abcdefghijkl", NO_CONTEXT, DEFAULT_PASSWORD_POLICY],
      ["Ada.Lovelace.1815", ADA, DEFAULT_PASSWORD_POLICY],
    ];
    for (const [password, context, policy] of cases) refusal(password, context, policy);
  });
});

describe("parsePasswordClasses", () => {
  it("parses a comma-separated list", () => {
    expect(parsePasswordClasses("lower,upper,digit")).toEqual(["lower", "upper", "digit"]);
  });

  it("accepts spaces, any case, and drops duplicates and empty entries", () => {
    expect(parsePasswordClasses(" Symbol , lower,,LOWER ")).toEqual(["symbol", "lower"]);
    expect(parsePasswordClasses("")).toEqual([]);
  });

  it("throws naming an unknown class and the known ones", () => {
    expect(() => parsePasswordClasses("lower,emoji")).toThrow(/"emoji".*lower, upper, digit, symbol/);
  });
});

describe("passwordStrength (advisory)", () => {
  it("scores a passphrase high and a common password low", () => {
    expect(passwordStrength("vivid otter plays the cello")).toBeGreaterThanOrEqual(3);
    expect(passwordStrength("Password123!")).toBeLessThanOrEqual(1);
  });
});
