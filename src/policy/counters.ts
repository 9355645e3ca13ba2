/**
 * The spend counters an action reads and, when allowed, charges.
 *
 * Base counters: for every kind of counter (AGENT: this agent, OWNER: its owner's agents,
 * GLOBAL: all agents) and every window (HOUR, DAY, WEEK, MONTH, TOTAL), the instance
 * containing `now`. Always all fifteen, whatever caps the chain has: every counter then holds
 * the exact spend of its subject and window, so a cap added later starts from the truth,
 * spend reports need no caps, and a what-if replay finds the spend of any proposed cap in the
 * decision record.
 *
 * Extra counters: a cap per RUN, in a MINUTE window, counting ACTIONS or scoped to a pattern
 * has a counter of its own signature, charged by every action that the cap would count and
 * whose chain holds a cap of that signature (enabled, ENFORCE or SHADOW). Such a counter
 * starts counting when its first cap comes into force. Policy validation keeps every
 * action it should count under such a cap: per OWNER it may not be written at AGENT scope
 * (the owner's other agents would not see it), per GLOBAL only at GLOBAL scope.
 */
import { matchesPattern } from "./pattern";
import { isPrepared, type ChainInput, type PreparedChain } from "./policy-chain";
import {
  BASE_COUNTERS,
  BASE_WINDOWS,
  capKey,
  capSubject,
  isExtraSignature,
  serializeCapKey,
  signatureOf,
  windowBounds,
  type ActionRequest,
  type CapCounter,
  type CapSignature,
  type CapWindow,
} from "./policy-types";

export interface CounterSpec {
  key: string;
  per: CapCounter;
  window: CapWindow;
  /** ACTIONS: a velocity counter (charged 1 per allowed action, never released). */
  measure?: "ACTIONS";
  pattern?: string;
  subject: string;
  /** Null for TOTAL. */
  windowStart: Date | null;
  windowEnd: Date | null;
}

/** Every counter of the request at `now`, sorted by key (the order they are locked in). */
export function countersFor(request: Pick<ActionRequest, "agentId" | "ownerId">, now: Date): CounterSpec[] {
  // Five window instances, each computed once, for three subjects: on every action's path.
  const windows = BASE_WINDOWS.map((window) => {
    const bounds = windowBounds(window, now);
    return { window, start: window === "TOTAL" ? null : bounds.start, end: bounds.end, startKey: window === "TOTAL" ? "TOTAL" : bounds.start.toISOString() };
  });
  const specs: CounterSpec[] = [];
  for (const per of BASE_COUNTERS) {
    const subject = per === "AGENT" ? request.agentId : per === "OWNER" ? request.ownerId : "global";
    for (const { window, start, end, startKey } of windows) {
      const key = serializeCapKey({ per, window, subject, windowStart: startKey });
      specs.push({ key, per, window, subject, windowStart: start, windowEnd: end });
    }
  }
  return specs.sort(byKey);
}

/**
 * The extra counters (module comment) this request reads at `now` under `chain`: one per
 * signature of a cap of the chain's enabled policies that counts this request. Sorted by key.
 */
export function extraCountersFor(chain: ChainInput, request: Pick<ActionRequest, "agentId" | "ownerId" | "runId" | "action">, now: Date): CounterSpec[] {
  const policies = isPrepared(chain) ? (chain.withShadow ?? chain.enforced).all : chain.filter((policy) => policy.enabled);
  const bySignature = new Map<string, CounterSpec>();
  for (const policy of policies) {
    for (const cap of policy.caps) {
      if (!isExtraSignature(cap) || bySignature.has(signatureOf(cap))) continue;
      const spec = counterOf(cap, request, now);
      if (spec !== null) bySignature.set(signatureOf(cap), spec);
    }
  }
  return [...bySignature.values()].sort(byKey);
}

/** The counter of a cap's signature for this request at `now`; null when it does not count it. */
export function counterOf(cap: CapSignature, request: Pick<ActionRequest, "agentId" | "ownerId" | "runId" | "action">, now: Date): CounterSpec | null {
  if (cap.pattern !== undefined && !matchesPattern(cap.pattern, request.action)) return null;
  if (capSubject(cap.per, request) === null) return null;
  const key = capKey(cap, request, now);
  const bounds = windowBounds(cap.window, now);
  return {
    key: serializeCapKey(key),
    per: cap.per,
    window: cap.window,
    ...(cap.measure === undefined ? {} : { measure: cap.measure }),
    ...(cap.pattern === undefined ? {} : { pattern: cap.pattern }),
    subject: key.subject,
    windowStart: cap.window === "TOTAL" ? null : bounds.start,
    windowEnd: bounds.end,
  };
}

/**
 * Base and extra counters together, sorted by key (the order they are locked in). Read-only:
 * for a prepared chain the same array is returned for every request of the same run and
 * action within a minute (no window is shorter, so the counters cannot differ), which saves
 * computing eighteen keys on every action.
 */
export function decisionCounters(chain: ChainInput, request: ActionRequest, now: Date): readonly CounterSpec[] {
  if (!isPrepared(chain)) return computeCounters(chain, request, now);
  let cache = remembered.get(chain);
  if (cache === undefined) {
    cache = new Map();
    remembered.set(chain, cache);
  }
  const key = `${Math.floor(now.getTime() / 60_000)}|${request.agentId}|${request.ownerId}|${request.runId ?? ""}|${request.action}`;
  let counters = cache.get(key);
  if (counters === undefined) {
    counters = computeCounters(chain, request, now);
    if (cache.size >= MAX_REMEMBERED) cache.clear();
    cache.set(key, counters);
  }
  return counters;
}

const remembered = new WeakMap<PreparedChain, Map<string, readonly CounterSpec[]>>();
const MAX_REMEMBERED = 256;

function computeCounters(chain: ChainInput, request: ActionRequest, now: Date): CounterSpec[] {
  const extra = extraCountersFor(chain, request, now);
  const base = countersFor(request, now);
  return extra.length === 0 ? base : [...base, ...extra].sort(byKey);
}

function byKey(a: CounterSpec, b: CounterSpec): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
