import { EventEmitter } from "node:events";
import type { Clock } from "../clock";
import type { SharedStore } from "./shared-store";

interface Entry {
  value: string;
  expiresAt: number;
}

/** The embedded store: one process, so a Map is as atomic as Redis is for many. */
export function createMemoryStore(clock: Clock): SharedStore {
  const entries = new Map<string, Entry>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  function read(key: string): string | null {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= clock.now().getTime()) {
      entries.delete(key);
      return null;
    }
    return entry.value;
  }

  const sweep = setInterval(() => {
    const now = clock.now().getTime();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }, 60_000);
  sweep.unref();

  return {
    kind: "memory",
    async mget(keys) {
      return keys.map(read);
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs });
    },
    async setIfAbsent(key, value, ttlMs) {
      const existing = read(key);
      if (existing !== null) return existing;
      entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs });
      return value;
    },
    async publish(channel, message) {
      queueMicrotask(() => bus.emit(channel, message));
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
    },
    async ping() {},
    async close() {
      clearInterval(sweep);
      bus.removeAllListeners();
      entries.clear();
    },
  };
}
