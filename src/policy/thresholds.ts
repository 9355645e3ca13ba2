/**
 * Alert thresholds of caps (SpendCap.thresholds: percentages of the limit). A charge that
 * takes a cap's counter from below `limit * t / 100` to at least it crosses threshold `t`.
 * Pure: which thresholds one allowed decision crosses; recording each crossing once per
 * window and telling people is the caller's (decision-batcher.ts, spend-alerts.ts).
 */
import type { CapCheck } from "./decision-types";
import type { CapWindow, CapCounter, Money } from "./policy-types";

export interface ThresholdCrossing {
  policyId: string;
  capId: string;
  /** The counter of the window instance (so one crossing per cap and window). */
  counterKey: string;
  threshold: number;
  per: CapCounter;
  window: CapWindow;
  subject: string;
  limit: Money;
  spent: Money;
  measure: "COST" | "ACTIONS";
  pattern: string | null;
}

/** Whether going from `before` to `after` reaches `threshold`% of `limit` for the first time. */
export function crosses(before: Money, after: Money, limit: Money, threshold: number): boolean {
  const mark = limit * BigInt(threshold);
  return before * 100n < mark && after * 100n >= mark;
}

/** The thresholds the caps of an ALLOWED decision cross (spentBefore -> spentAfter). */
export function thresholdCrossings(caps: readonly CapCheck[]): ThresholdCrossing[] {
  return caps.flatMap((cap) =>
    (cap.thresholds ?? [])
      .filter((threshold) => crosses(cap.spentBefore, cap.spentAfter, cap.limit, threshold))
      .map((threshold) => ({
        policyId: cap.policyId,
        capId: cap.capId,
        counterKey: cap.key,
        threshold,
        per: cap.per,
        window: cap.window,
        subject: cap.subject,
        limit: cap.limit,
        spent: cap.spentAfter,
        measure: cap.measure ?? "COST",
        pattern: cap.pattern ?? null,
      })),
  );
}
