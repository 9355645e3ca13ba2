/**
 * The spend counters an action reads and, when allowed, charges: for every kind of counter
 * (AGENT: this agent, OWNER: its owner's agents, GLOBAL: all agents) and every window (HOUR,
 * DAY, WEEK, MONTH, TOTAL), the instance containing `now`. Always all fifteen, whatever caps
 * the chain has: every counter then holds the exact spend of its subject and window, so a
 * cap added later starts from the truth, spend reports need no caps, and a what-if replay
 * finds the spend of any proposed cap in the decision record.
 */
import {
  CAP_COUNTERS,
  CAP_WINDOWS,
  capSubject,
  serializeCapKey,
  windowBounds,
  type ActionRequest,
  type CapCounter,
  type CapWindow,
} from "./policy-types";

export interface CounterSpec {
  key: string;
  per: CapCounter;
  window: CapWindow;
  subject: string;
  /** Null for TOTAL. */
  windowStart: Date | null;
  windowEnd: Date | null;
}

/** Every counter of the request at `now`, sorted by key (the order they are locked in). */
export function countersFor(request: Pick<ActionRequest, "agentId" | "ownerId">, now: Date): CounterSpec[] {
  // Five window instances, each computed once, for three subjects: on every action's path.
  const windows = CAP_WINDOWS.map((window) => {
    const bounds = windowBounds(window, now);
    return { window, start: window === "TOTAL" ? null : bounds.start, end: bounds.end, startKey: window === "TOTAL" ? "TOTAL" : bounds.start.toISOString() };
  });
  const specs: CounterSpec[] = [];
  for (const per of CAP_COUNTERS) {
    const subject = capSubject(per, request);
    for (const { window, start, end, startKey } of windows) {
      const key = serializeCapKey({ per, window, subject, windowStart: startKey });
      specs.push({ key, per, window, subject, windowStart: start, windowEnd: end });
    }
  }
  return specs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
