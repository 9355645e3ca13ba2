import { describe, expect, it } from "vitest";
import { parseDurationMs } from "../../src/config/duration";

describe("parseDurationMs", () => {
  it("converts each unit to milliseconds", () => {
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs("30s")).toBe(30 * 1000);
    expect(parseDurationMs("15m")).toBe(15 * 60 * 1000);
    expect(parseDurationMs("12h")).toBe(12 * 60 * 60 * 1000);
    expect(parseDurationMs("30d")).toBe(30 * 24 * 60 * 60 * 1000);
    expect(parseDurationMs("2w")).toBe(2 * 7 * 24 * 60 * 60 * 1000);
  });

  it("reads a bare number as seconds", () => {
    expect(parseDurationMs("900")).toBe(900_000);
    expect(parseDurationMs("0")).toBe(0);
  });

  it("does not confuse 'ms' with 'm' (minutes)", () => {
    expect(parseDurationMs("5ms")).toBe(5);
    expect(parseDurationMs("5m")).toBe(300_000);
  });

  it("tolerates surrounding whitespace and a space before the unit", () => {
    expect(parseDurationMs("  15m  ")).toBe(900_000);
    expect(parseDurationMs("\t10 s\n")).toBe(10_000);
  });

  it.each(["-5", "-5m", "1.5h", "0.5", "10x", "10 minutes", "m", "", "   ", "15m30s", "1e3"])(
    "rejects %j",
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );
});
