import { describe, expect, it } from "vitest";
import {
  comparePatterns,
  matchesPattern,
  patternKind,
  representativeAction,
  specificity,
  validateActionName,
  validatePattern,
} from "../../src/policy/pattern";

describe("validatePattern", () => {
  it.each(["*", "email.send", "llm.*", "llm.chat.*", "a", "a_b-c.0-9", "x".repeat(100)])("accepts %s", (pattern) => {
    expect(validatePattern(pattern)).toBeNull();
  });

  it.each([
    ["", "empty"],
    ["x".repeat(101), "at most 100"],
    ["*.send", "whole last segment"],
    ["llm.*.x", "whole last segment"],
    ["*.*", "whole last segment"],
    ["llm*", "whole segment"],
    ["llm.c*", "whole segment"],
    ["Email.send", "may only contain"],
    ["email send", "may only contain"],
    ["email..send", "empty segment"],
    [".email", "empty segment"],
    ["email.", "empty segment"],
    ["llm.**", "whole segment"],
  ])("rejects %j (%s)", (pattern, message) => {
    expect(validatePattern(pattern)).toContain(message);
  });
});

describe("validateActionName", () => {
  it("accepts dotted lowercase names", () => {
    expect(validateActionName("payments.transfer")).toBeNull();
    expect(validateActionName("llm")).toBeNull();
  });

  it.each(["*", "llm.*", "", "LLM.completion", "a..b", "x".repeat(101)])("rejects %j", (action) => {
    expect(validateActionName(action)).not.toBeNull();
  });
});

describe("matchesPattern", () => {
  it.each([
    ["email.send", "email.send", true],
    ["email.send", "email.sends", false],
    ["email.send", "email", false],
    ["llm.*", "llm.completion", true],
    ["llm.*", "llm.chat.stream", true],
    ["llm.*", "llm", false],
    ["llm.*", "llmx.completion", false],
    ["llm.chat.*", "llm.chat.stream", true],
    ["llm.chat.*", "llm.completion", false],
    ["*", "anything", true],
    ["*", "a.b.c", true],
    ["Email.send", "email.send", false],
  ] as const)("%s ~ %s = %s", (pattern, action, expected) => {
    expect(matchesPattern(pattern, action)).toBe(expected);
  });
});

describe("specificity", () => {
  it("orders exact > longer prefix > shorter prefix > *", () => {
    const ordered = ["llm.chat.stream", "llm.chat.*", "llm.*", "*"];
    expect(ordered.map(specificity)).toEqual([...ordered.map(specificity)].sort((a, b) => b - a));
    expect(new Set(ordered.map(specificity)).size).toBe(4);
  });

  it("ranks any exact name above the longest possible prefix", () => {
    const longestPrefix = `${"a.".repeat(49)}*`;
    expect(validatePattern(longestPrefix)).toBeNull();
    expect(specificity("a")).toBeGreaterThan(specificity(longestPrefix));
  });

  it("comparePatterns sorts most specific first, then alphabetically", () => {
    expect(["*", "b.*", "a.b.*", "b.c", "a.*", "a.b"].sort(comparePatterns)).toEqual(["a.b", "b.c", "a.b.*", "a.*", "b.*", "*"]);
  });
});

describe("patternKind and representativeAction", () => {
  it.each([
    ["*", "ANY", "~"],
    ["llm.*", "PREFIX", "llm.~"],
    ["email.send", "EXACT", "email.send"],
  ] as const)("%s is %s, represented by %s", (pattern, kind, action) => {
    expect(patternKind(pattern)).toBe(kind);
    expect(representativeAction(pattern)).toBe(action);
    expect(matchesPattern(pattern, action)).toBe(true);
  });

  it("the representative of a prefix is matched only by patterns covering it", () => {
    const action = representativeAction("llm.*");
    expect(["*", "llm.*"].every((p) => matchesPattern(p, action))).toBe(true);
    expect(["llm.chat.*", "llm.completion", "llm"].some((p) => matchesPattern(p, action))).toBe(false);
  });
});
