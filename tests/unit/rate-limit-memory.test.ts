import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/store/memory-store";
import type { SharedStore } from "../../src/store/shared-store";
import { ManualClock } from "../support/manual-clock";

const WINDOW = 1_000;

let clock: ManualClock;
let store: SharedStore;

beforeEach(() => {
  clock = new ManualClock(new Date("2024-03-01T00:00:00.000Z"));
  store = createMemoryStore(clock);
});

afterEach(async () => {
  await store.close();
});

async function hits(key: string, times: number, limit: number, windowMs = WINDOW) {
  const results = [];
  for (let i = 0; i < times; i += 1) results.push(await store.hit(key, windowMs, limit));
  return results;
}

describe("memory store: hit (sliding-window log)", () => {
  it("allows exactly `limit` hits in a window, counting each allowed one", async () => {
    const results = await hits("k", 3, 3);
    expect(results).toEqual([
      { allowed: true, count: 1, retryAfterMs: 0 },
      { allowed: true, count: 2, retryAfterMs: 0 },
      { allowed: true, count: 3, retryAfterMs: 0 },
    ]);
    expect(await store.hit("k", WINDOW, 3)).toEqual({ allowed: false, count: 3, retryAfterMs: WINDOW });
  });

  it("a limit of 1 allows one hit and refuses the next", async () => {
    expect((await store.hit("one", WINDOW, 1)).allowed).toBe(true);
    expect((await store.hit("one", WINDOW, 1)).allowed).toBe(false);
  });

  it("says how long until the oldest hit leaves the window", async () => {
    await store.hit("k", WINDOW, 2);
    clock.advance(300);
    await store.hit("k", WINDOW, 2);
    clock.advance(250);
    expect(await store.hit("k", WINDOW, 2)).toEqual({ allowed: false, count: 2, retryAfterMs: 450 });
    clock.advance(449);
    expect(await store.hit("k", WINDOW, 2)).toEqual({ allowed: false, count: 2, retryAfterMs: 1 });
    clock.advance(1);
    expect(await store.hit("k", WINDOW, 2)).toEqual({ allowed: true, count: 2, retryAfterMs: 0 });
  });

  it("slides: each hit leaves the window exactly `window` ms after it was made", async () => {
    await store.hit("k", WINDOW, 3); // t = 0
    clock.advance(400);
    await store.hit("k", WINDOW, 3); // t = 400
    clock.advance(400);
    await store.hit("k", WINDOW, 3); // t = 800
    clock.advance(100);
    expect(await store.hit("k", WINDOW, 3)).toMatchObject({ allowed: false, retryAfterMs: 100 }); // t = 900
    clock.advance(99);
    expect((await store.hit("k", WINDOW, 3)).allowed).toBe(false); // t = 999: the hit at 0 is 999 ms old
    clock.advance(1);
    expect(await store.hit("k", WINDOW, 3)).toEqual({ allowed: true, count: 3, retryAfterMs: 0 }); // t = 1000
    expect(await store.hit("k", WINDOW, 3)).toEqual({ allowed: false, count: 3, retryAfterMs: 400 }); // 400 leaves at 1400
  });

  it("does not record refused hits", async () => {
    await hits("k", 2, 2); // t = 0
    clock.advance(500);
    const refused = await hits("k", 50, 2); // t = 500
    expect(refused.every((result) => !result.allowed && result.count === 2)).toBe(true);
    clock.advance(500); // t = 1000: both hits at 0 leave; none of the refused ones were counted
    expect(await hits("k", 3, 2)).toEqual([
      { allowed: true, count: 1, retryAfterMs: 0 },
      { allowed: true, count: 2, retryAfterMs: 0 },
      { allowed: false, count: 2, retryAfterMs: WINDOW },
    ]);
  });

  it("starts afresh once a key's window has passed entirely", async () => {
    await hits("k", 5, 5);
    clock.advance(WINDOW);
    expect(await store.hit("k", WINDOW, 5)).toEqual({ allowed: true, count: 1, retryAfterMs: 0 });
  });

  it("keeps keys independent", async () => {
    await hits("a", 2, 2);
    expect((await store.hit("a", WINDOW, 2)).allowed).toBe(false);
    expect(await store.hit("b", WINDOW, 2)).toEqual({ allowed: true, count: 1, retryAfterMs: 0 });
    expect(await store.mget(["a", "b"])).toEqual([null, null]);
  });

  it("is exact under concurrent calls in one process", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => store.hit("burst", WINDOW, 10)));
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
    expect(
      results
        .filter((result) => result.allowed)
        .map((result) => result.count)
        .sort((x, y) => x - y),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("refuses a window or limit that is not a positive whole number", async () => {
    await expect(store.hit("k", 0, 1)).rejects.toThrow(RangeError);
    await expect(store.hit("k", 1.5, 1)).rejects.toThrow(RangeError);
    await expect(store.hit("k", WINDOW, 0)).rejects.toThrow(RangeError);
    await expect(store.hit("k", WINDOW, Number.NaN)).rejects.toThrow(RangeError);
  });
});
