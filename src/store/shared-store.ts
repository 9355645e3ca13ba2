/**
 * Fast state that every server process must see alike: cache versions, revocations, rate
 * limit counters, invalidation messages. In production it is Redis; embedded, it lives in
 * this process. Every operation that decides something is atomic in both.
 */
export interface SharedStore {
  readonly kind: "memory" | "redis";
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores `value` unless the key holds one; returns what the key holds afterwards. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<string>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
