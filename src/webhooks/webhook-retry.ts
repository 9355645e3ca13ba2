/** When a failed delivery is tried again: configuration (WEBHOOK_RETRY_BASE, WEBHOOK_RETRY_MAX). */
export interface RetrySchedule {
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * The wait after the `attempt`-th failed attempt: `base * 2^(attempt-1)`, capped at `max`,
 * of which the upper half is random ("equal jitter", `random` in [0, 1)), so endpoints that
 * failed together do not all come back at the same instant, and no wait is shorter than
 * half its step. Pure: the worker passes Math.random().
 */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: number): number {
  const step = Math.min(schedule.retryBaseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40), schedule.retryMaxMs);
  return Math.round(step / 2 + (step / 2) * Math.min(Math.max(random, 0), 1));
}
