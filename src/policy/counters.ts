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
  capKey,
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
  const specs: CounterSpec[] = [];
  for (const per of CAP_COUNTERS) {
    for (const window of CAP_WINDOWS) {
      const key = capKey({ per, window }, request, now);
      const bounds = windowBounds(window, now);
      specs.push({
        key: serializeCapKey(key),
        per,
        window,
        subject: key.subject,
        windowStart: window === "TOTAL" ? null : bounds.start,
        windowEnd: bounds.end,
      });
    }
  }
  return specs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
