import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/webhooks/webhook-retry";

/** The retry schedule: doubling from the base, capped, with the upper half random. */
const schedule = { retryBaseMs: 1_000, retryMaxMs: 60_000 };

describe("retryDelayMs", () => {
  it("doubles each time, between half and all of the step", () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, schedule, 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, schedule, 0.999999))).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it("never exceeds the maximum, however many attempts", () => {
    for (const attempt of [7, 20, 50, 1_000]) {
      expect(retryDelayMs(attempt, schedule, 1)).toBe(60_000);
      expect(retryDelayMs(attempt, schedule, 0)).toBe(30_000);
    }
  });
});
