import { afterEach, describe, expect, it, vi } from "vitest";
import { createPrincipalVersions } from "../../src/auth/principal-versions";
import { createMemoryStore } from "../../src/store/memory-store";
import type { SharedStore } from "../../src/store/shared-store";

/**
 * A change commits in PostgreSQL, then its stamp moves in the shared store so every process
 * drops its cached principal. When the store fails at that moment the change is already
 * made: the bump is retried until it lands, so a store that comes back with its old stamps
 * (paused, not restarted) cannot keep an ended session alive in another process's cache.
 */
function flakyStore(failures: number): SharedStore & { setCalls: number } {
  const inner = createMemoryStore({ now: () => new Date() });
  let left = failures;
  const store = {
    ...inner,
    kind: inner.kind,
    setCalls: 0,
    async set(key: string, value: string, ttlMs: number) {
      store.setCalls += 1;
      if (left > 0) {
        left -= 1;
        throw new Error("store unreachable");
      }
      await inner.set(key, value, ttlMs);
    },
  };
  return store;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("version stamps", () => {
  it("retry a failed bump until it lands, and still report the failure to the caller", async () => {
    vi.useFakeTimers();
    const store = flakyStore(3);
    const versions = createPrincipalVersions(store);
    const before = (await versions.current("u1")).user;
    await expect(versions.bumpUser("u1")).rejects.toThrow(/unreachable/);
    expect((await versions.current("u1")).user).toBe(before);
    await vi.advanceTimersByTimeAsync(30_000);
    expect((await versions.current("u1")).user).not.toBe(before);
    // It stops once it landed: no retry storm.
    const calls = store.setCalls;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(store.setCalls).toBe(calls);
  });

  it("bump at once when the store answers", async () => {
    const versions = createPrincipalVersions(createMemoryStore({ now: () => new Date() }));
    const before = await versions.agentStamps("a1", "u1");
    await versions.bumpAgent("a1");
    await versions.bumpPolicies();
    const after = await versions.agentStamps("a1", "u1");
    expect(after.agent).not.toBe(before.agent);
    expect(after.chain).not.toBe(before.chain);
  });
});
