import { describe, expect, it } from "vitest";
import { classifyIdentifier, MAX_EMAIL_LENGTH, normalizeEmail, normalizeUsername } from "../../src/auth/identity-rules";
import { UserInputError } from "../../src/errors/errors";

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("normalizeEmail", () => {
  it("trims and lower-cases the domain, keeping the local part's case", () => {
    expect(normalizeEmail("  Alice.Smith@Example.COM \n")).toBe("Alice.Smith@example.com");
  });

  it("accepts an address of exactly the maximum length", () => {
    const domain = "@example.com";
    const email = "a".repeat(MAX_EMAIL_LENGTH - domain.length) + domain;
    expect(email).toHaveLength(254);
    expect(normalizeEmail(email)).toBe(email);
  });

  it("rejects an address one character over the maximum length", () => {
    const domain = "@example.com";
    const email = "a".repeat(MAX_EMAIL_LENGTH + 1 - domain.length) + domain;
    expect(() => normalizeEmail(email)).toThrow(UserInputError);
  });

  it.each(["plainaddress", "alice@", "@example.com", "a@b@example.com", "al ice@example.com", "alice@-example.com", "alice@example..com", "alice@exa_mple.com"])(
    "rejects malformed %j",
    (email) => {
      expect(() => normalizeEmail(email)).toThrow(UserInputError);
    },
  );

  it("rejects empty and blank input as required", () => {
    expect(() => normalizeEmail("")).toThrow(/required/);
    expect(() => normalizeEmail("   ")).toThrow(/required/);
  });

  it("throws a BAD_USER_INPUT error naming the field, without echoing the value", () => {
    const value = "secret-looking-value@@nowhere";
    const error = catchError(() => normalizeEmail(value, "contactEmail"));
    expect(error).toBeInstanceOf(UserInputError);
    const typed = error as UserInputError;
    expect(typed.field).toBe("contactEmail");
    expect(typed.extensions.code).toBe("BAD_USER_INPUT");
    expect(typed.extensions.field).toBe("contactEmail");
    expect(typed.message).not.toContain("secret-looking-value");
  });

  it("names the field 'email' by default", () => {
    const error = catchError(() => normalizeEmail("nope")) as UserInputError;
    expect(error.field).toBe("email");
  });
});

describe("normalizeUsername", () => {
  it("trims and accepts letters, digits, '_', '.', '-'", () => {
    expect(normalizeUsername("  alice_b.c-9 ")).toBe("alice_b.c-9");
  });

  it("accepts 3 and 32 characters, rejects 2 and 33", () => {
    expect(normalizeUsername("abc")).toBe("abc");
    expect(normalizeUsername("a".repeat(32))).toBe("a".repeat(32));
    expect(() => normalizeUsername("ab")).toThrow(UserInputError);
    expect(() => normalizeUsername("a".repeat(33))).toThrow(UserInputError);
  });

  it.each(["_alice", ".alice", "-alice", "al ice", "alice@example", "alïce", ""])("rejects %j", (name) => {
    expect(() => normalizeUsername(name)).toThrow(UserInputError);
  });

  it("names the field and does not echo the value", () => {
    const error = catchError(() => normalizeUsername("bad name!", "handle")) as UserInputError;
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.field).toBe("handle");
    expect(error.extensions.code).toBe("BAD_USER_INPUT");
    expect(error.message).not.toContain("bad name!");
  });
});

describe("classifyIdentifier", () => {
  it("classifies values with '@' as email and others as username, trimmed", () => {
    expect(classifyIdentifier(" alice@example.com ")).toEqual({ kind: "email", value: "alice@example.com" });
    expect(classifyIdentifier(" alice ")).toEqual({ kind: "username", value: "alice" });
  });

  it("returns undefined for empty, blank, overlong or NUL-containing input", () => {
    expect(classifyIdentifier("")).toBeUndefined();
    expect(classifyIdentifier("   ")).toBeUndefined();
    expect(classifyIdentifier("a".repeat(MAX_EMAIL_LENGTH + 1))).toBeUndefined();
    expect(classifyIdentifier("ali\u0000ce")).toBeUndefined();
  });

  it("still accepts an identifier of exactly the maximum length", () => {
    expect(classifyIdentifier("a".repeat(MAX_EMAIL_LENGTH))).toEqual({ kind: "username", value: "a".repeat(MAX_EMAIL_LENGTH) });
  });
});
