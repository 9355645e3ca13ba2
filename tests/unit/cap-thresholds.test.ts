import { describe, expect, it } from "vitest";
import { crosses } from "../../src/policy/thresholds";

describe("crosses", () => {
  it("is true only for the charge that first reaches the threshold, exact in integers", () => {
    // 80 % of 10 units is 8 units: from below to at least it.
    expect(crosses(7_999_999n, 8_000_000n, 10_000_000n, 80)).toBe(true);
    expect(crosses(0n, 10_000_000n, 10_000_000n, 80)).toBe(true);
    expect(crosses(8_000_000n, 9_000_000n, 10_000_000n, 80)).toBe(false);
    expect(crosses(7_000_000n, 7_999_999n, 10_000_000n, 80)).toBe(false);
    // A limit of 3 actions: 50 % is 1.5, crossed by the second action, not the first.
    expect(crosses(0n, 1n, 3n, 50)).toBe(false);
    expect(crosses(1n, 2n, 3n, 50)).toBe(true);
    // A zero limit has nothing to cross.
    expect(crosses(0n, 0n, 0n, 100)).toBe(false);
  });
});
