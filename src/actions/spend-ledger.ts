import { eq, inArray, sql } from "drizzle-orm";
import type { Db, DbOrTx, Tx } from "../db/database";
import { spendCounters, spendThresholdCrossings } from "../db/schema";
import { recordedCrossings, type ActionCrossing } from "./decision-statements";
import type { CounterSpec } from "../policy/counters";
import type { Money, SpendView } from "../policy/policy-types";

/**
 * The spend ledger in PostgreSQL: one row per counter, reserved + settled. Every change
 * happens inside the caller's transaction, after `lockCounters` locked the rows it touches.
 */

/**
 * Creates the counters that do not exist yet and locks all of them for the transaction, in
 * key order (one statement: an upsert whose conflict branch locks the existing row), and
 * returns the spend of each. Two transactions that need overlapping counters therefore take
 * them in the same order and cannot deadlock; the second waits until the first commits and
 * then reads its charges.
 */
export async function lockCounters(tx: Tx, specs: readonly CounterSpec[], now: Date): Promise<Map<string, Money>> {
  const spend = new Map<string, Money>();
  if (specs.length === 0) return spend;
  // Code-unit order, as ORDER BY key COLLATE "C" in lockExisting: one lock order everywhere.
  const ordered = [...specs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rows = await tx
    .insert(spendCounters)
    .values(
      ordered.map((spec) => ({ ...counterRowOf(spec), updatedAt: now })),
    )
    .onConflictDoUpdate({ target: spendCounters.key, set: { updatedAt: sql`${spendCounters.updatedAt}` } })
    .returning({ key: spendCounters.key, reserved: spendCounters.reserved, settled: spendCounters.settled });
  for (const row of rows) spend.set(row.key, row.reserved + row.settled);
  return spend;
}

/** The row that creates a counter. */
function counterRowOf(spec: CounterSpec) {
  return {
    key: spec.key,
    per: spec.per,
    window: spec.window,
    subject: spec.subject,
    measure: spec.measure ?? null,
    pattern: spec.pattern ?? null,
    windowStart: spec.windowStart,
    windowEnd: spec.windowEnd,
  };
}

/**
 * The decision path's counters: rows are never deleted, so a process remembers which exist.
 * Missing ones are created first, outside the decision's transaction (`ensure`, autocommit);
 * inside it, the decision only has to lock them (SELECT ... FOR UPDATE in key order: no new
 * row versions; the charge then writes each row once). Should a row be missing all the
 * same, the decision `forget`s the batch's counters and ensures them again.
 */
export function createCounterLocks(db: Db) {
  const known = new Set<string>();
  return {
    async ensure(specs: readonly CounterSpec[]): Promise<void> {
      const missing = specs.filter((spec) => !known.has(spec.key));
      if (missing.length === 0) return;
      await db
        .insert(spendCounters)
        .values(missing.map(counterRowOf))
        .onConflictDoNothing();
      if (known.size > 500_000) known.clear();
      for (const spec of missing) known.add(spec.key);
    },

    forget(specs: readonly CounterSpec[]): void {
      for (const spec of specs) known.delete(spec.key);
    },
  };
}

/**
 * Locks the existing rows of these counters in key order (SELECT ... FOR UPDATE) and returns
 * their spend; a missing counter is absent from the result. Settle, cancel and expiry lock
 * counters their action created; the decision path, counters it created beforehand.
 */
export async function lockExisting(tx: Tx, keys: readonly string[]): Promise<Map<string, Money>> {
  if (keys.length === 0) return new Map();
  const rows = await tx
    .select({ key: spendCounters.key, reserved: spendCounters.reserved, settled: spendCounters.settled })
    .from(spendCounters)
    .where(inArray(spendCounters.key, [...keys]))
    .orderBy(sql`${spendCounters.key} COLLATE "C"`)
    .for("update");
  return new Map(rows.map((row) => [row.key, row.reserved + row.settled]));
}

/** Adds `amount` to the reservations of `keys`. */
export async function reserve(tx: Tx, keys: readonly string[], amount: Money, now: Date): Promise<void> {
  if (keys.length === 0 || amount === 0n) return;
  await tx
    .update(spendCounters)
    .set({ reserved: sql`${spendCounters.reserved} + ${amount.toString()}::bigint`, updatedAt: now })
    .where(inArray(spendCounters.key, [...keys]));
}

/** Turns a reservation of `reserved` into a charge of `charged` (0 to just release it). */
/** Counts one allowed action on each velocity counter (settled at once: nothing releases it). */
export async function countActions(tx: Tx, keys: readonly string[], now: Date): Promise<void> {
  if (keys.length === 0) return;
  await tx
    .update(spendCounters)
    .set({ settled: sql`${spendCounters.settled} + 1`, updatedAt: now })
    .where(inArray(spendCounters.key, [...keys]));
}

export async function settle(tx: Tx, keys: readonly string[], reserved: Money, charged: Money, now: Date): Promise<void> {
  if (keys.length === 0 || (reserved === 0n && charged === 0n)) return;
  await tx
    .update(spendCounters)
    .set({
      reserved: sql`${spendCounters.reserved} - ${reserved.toString()}::bigint`,
      settled: sql`${spendCounters.settled} + ${charged.toString()}::bigint`,
      updatedAt: now,
    })
    .where(inArray(spendCounters.key, [...keys]));
}

/**
 * Adds `amount` (negative: a credit) to the settled spend of one counter the caller locked
 * (an adjustment, spend-adjustments.ts); returns the settled spend after it.
 */
export async function adjustSettled(tx: Tx, key: string, amount: Money, now: Date): Promise<Money> {
  const [row] = await tx
    .update(spendCounters)
    .set({ settled: sql`${spendCounters.settled} + ${amount.toString()}::bigint`, updatedAt: now })
    .where(eq(spendCounters.key, key))
    .returning({ settled: spendCounters.settled });
  return row?.settled ?? 0n;
}

/** Spend per counter without locking (dry runs and reports); missing counters are 0. */
export async function readSpend(db: DbOrTx, keys: readonly string[]): Promise<SpendView> {
  const rows = await readCounters(db, keys);
  return new Map([...rows.values()].map((row) => [row.key, row.reserved + row.settled]));
}

export interface CounterRow {
  key: string;
  per: string;
  window: string;
  subject: string;
  windowStart: Date | null;
  windowEnd: Date | null;
  reserved: Money;
  settled: Money;
}

/** The rows of exactly these counters (reserved and settled apart); missing ones are absent. */
export async function readCounters(db: DbOrTx, keys: readonly string[]): Promise<Map<string, CounterRow>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .select({
      key: spendCounters.key,
      per: spendCounters.per,
      window: spendCounters.window,
      subject: spendCounters.subject,
      windowStart: spendCounters.windowStart,
      windowEnd: spendCounters.windowEnd,
      reserved: spendCounters.reserved,
      settled: spendCounters.settled,
    })
    .from(spendCounters)
    .where(inArray(spendCounters.key, [...keys]));
  return new Map(rows.map((row) => [row.key, row]));
}

/**
 * Records threshold crossings once per (policy, cap, counter, threshold) in the caller's
 * transaction and returns the ones recorded now (the ones to announce).
 */
export async function recordCrossings(tx: Tx, crossings: readonly ActionCrossing[], now: Date): Promise<ActionCrossing[]> {
  if (crossings.length === 0) return [];
  const inserted = await tx
    .insert(spendThresholdCrossings)
    .values(crossings.map(({ measure: _measure, pattern: _pattern, ...crossing }) => ({ ...crossing, crossedAt: now })))
    .onConflictDoNothing()
    .returning({ policyId: spendThresholdCrossings.policyId, capId: spendThresholdCrossings.capId, counterKey: spendThresholdCrossings.counterKey, threshold: spendThresholdCrossings.threshold });
  return recordedCrossings(crossings, inserted);
}
