/**
 * The governance model: policies, their action rules and spend caps, the request an agent
 * submits, and the identity of the spend counters caps are checked against.
 *
 * Everything here is pure data plus pure functions of their arguments (no clock, no I/O):
 * the time a window is computed for is always passed in as `now`.
 */

/** An exact count of micro-units (1 currency unit = 1,000,000). Never a float. */
export type Money = bigint;
export const MICROS_PER_UNIT: Money = 1_000_000n;

/** Scopes from the broadest to the most specific; the index is the specificity rank. */
export const POLICY_SCOPES = ["GLOBAL", "ROLE", "USER", "AGENT"] as const;
export type PolicyScope = (typeof POLICY_SCOPES)[number];

/** Effects from the most permissive to the most restrictive; the index is the rank. */
export const RULE_EFFECTS = ["ALLOW", "REQUIRE_APPROVAL", "DENY"] as const;
export type RuleEffect = (typeof RULE_EFFECTS)[number];

export const CAP_COUNTERS = ["AGENT", "OWNER", "GLOBAL"] as const;
/** Whose spend a cap counts: this agent, all agents of its owner, or all agents. */
export type CapCounter = (typeof CAP_COUNTERS)[number];

export const CAP_WINDOWS = ["HOUR", "DAY", "WEEK", "MONTH", "TOTAL"] as const;
/** UTC calendar windows (a WEEK starts Monday 00:00 UTC); TOTAL never resets. */
export type CapWindow = (typeof CAP_WINDOWS)[number];

export type PolicyMode = "ENFORCE" | "SHADOW";

/**
 * With what authority a policy was written (the policy model in README), fixed by the
 * writer's permissions when it is written. OVERRIDE (written with `policies:write`): a link
 * of the chain, replacing broader rules and caps as rules 2 and 3 say. RESTRICTION (written
 * by an owner on their own agent without `policies:write`): a layer beside the chain; at
 * every decision the stricter of the chain and the layer wins, and its caps apply as well as
 * the chain's, so it can never loosen anything, also after the chain above it changes.
 */
export const POLICY_AUTHORITIES = ["OVERRIDE", "RESTRICTION"] as const;
export type PolicyAuthority = (typeof POLICY_AUTHORITIES)[number];

export interface ActionRule {
  id: string;
  /** `email.send` (exact), `llm.*` (prefix, see pattern.ts) or `*` (everything). */
  pattern: string;
  effect: RuleEffect;
  /** A cost above this is denied, whatever the effect says. Absent: no per-action limit. */
  maxCostPerAction?: Money;
  /**
   * How far above its estimate an action decided by this rule may be settled (settle-bound.ts).
   * Absent: up to `maxCostPerAction`, or, without one, up to twice the estimate.
   */
  overrunAllowance?: Money;
  /** Applies whatever narrower scopes say (it can only make decisions more restrictive). */
  locked: boolean;
}

export interface SpendCap {
  id: string;
  per: CapCounter;
  window: CapWindow;
  limit: Money;
  /** How far a settle may take the counter past `limit` (settle-bound.ts). Absent: 0. */
  overrunAllowance?: Money;
  /** Applies as well as any narrower cap for the same (per, window) instead of being replaced. */
  locked: boolean;
}

export interface Policy {
  id: string;
  version: number;
  name: string;
  scope: PolicyScope;
  /** Role name (ROLE), user id (USER), agent id (AGENT); null for GLOBAL. */
  scopeId: string | null;
  enabled: boolean;
  /** SHADOW: evaluated for the would-be decision only; never blocks and never charges. */
  mode: PolicyMode;
  authority: PolicyAuthority;
  rules: ActionRule[];
  caps: SpendCap[];
}

/** The policy version a rule or cap came from, as rule and cap references carry it. */
export interface PolicyPart {
  policyId: string;
  policyVersion: number;
  policyName: string;
  scope: PolicyScope;
  scopeId: string | null;
  mode: PolicyMode;
  authority: PolicyAuthority;
}

export function policyPart(policy: Policy): PolicyPart {
  return {
    policyId: policy.id,
    policyVersion: policy.version,
    policyName: policy.name,
    scope: policy.scope,
    scopeId: policy.scopeId,
    mode: policy.mode,
    authority: policy.authority,
  };
}

export interface ActionRequest {
  agentId: string;
  ownerId: string;
  /** The owner's effective role names, inheritance already resolved (e.g. `resolveRoles`). */
  ownerRoles: readonly string[];
  action: string;
  resource?: string | null;
  estimatedCost: Money;
  /** The run the agent named for this action (src/runs); null or absent for none. */
  runId?: string | null;
}

/** Identity of one spend counter: whose spend, over which window instance. */
export interface CapKey {
  per: CapCounter;
  window: CapWindow;
  /** The agent id (per AGENT), the owner id (per OWNER) or "global" (per GLOBAL). */
  subject: string;
  /** ISO instant the window instance started at, or "TOTAL" for the never-resetting window. */
  windowStart: string;
}

/**
 * Current spend per counter (settled + reserved), keyed by `serializeCapKey`. A missing key
 * means nothing was spent yet (0).
 */
export type SpendView = ReadonlyMap<string, Money>;

export function scopeRank(scope: PolicyScope): number {
  return POLICY_SCOPES.indexOf(scope);
}

export function effectRank(effect: RuleEffect): number {
  return RULE_EFFECTS.indexOf(effect);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** 1970-01-01 was a Thursday: the first Monday 00:00 UTC is 4 days after the epoch. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/** Floor of `value` to a multiple of `step` counted from `origin`, correct for negatives too. */
function floorTo(value: number, step: number, origin = 0): number {
  const offset = (((value - origin) % step) + step) % step;
  return value - offset;
}

function startOfMonth(year: number, month: number): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, has no special case for the years 0-99.
  date.setUTCFullYear(year, month, 1);
  return date.getTime();
}

/**
 * The window instance containing `now`: start inclusive, end exclusive (null for TOTAL, whose
 * start is reported as the epoch). UTC only; never reads the clock. Throws a RangeError for an
 * invalid date, a caller's bug rather than a policy outcome.
 */
export function windowBounds(window: CapWindow, now: Date): { start: Date; end: Date | null } {
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new RangeError("windowBounds: `now` is not a valid date");
  let start: number;
  let end: number | null;
  switch (window) {
    case "HOUR":
      start = floorTo(t, HOUR_MS);
      end = start + HOUR_MS;
      break;
    case "DAY":
      start = floorTo(t, DAY_MS);
      end = start + DAY_MS;
      break;
    case "WEEK":
      start = floorTo(t, 7 * DAY_MS, FIRST_MONDAY_MS);
      end = start + 7 * DAY_MS;
      break;
    case "MONTH":
      start = startOfMonth(now.getUTCFullYear(), now.getUTCMonth());
      end = startOfMonth(now.getUTCFullYear(), now.getUTCMonth() + 1);
      break;
    case "TOTAL":
      start = 0;
      end = null;
      break;
  }
  return { start: new Date(start), end: end === null ? null : new Date(end) };
}

/** The subject a counter of kind `per` counts for this request. */
export function capSubject(per: CapCounter, request: Pick<ActionRequest, "agentId" | "ownerId">): string {
  switch (per) {
    case "AGENT":
      return request.agentId;
    case "OWNER":
      return request.ownerId;
    case "GLOBAL":
      return "global";
  }
}

/**
 * The counter a cap reads for this request at `now`. The key does not name the policy: every
 * cap with the same (per, window) reads — and an allowed action charges — the same counter.
 */
export function capKey(
  cap: Pick<SpendCap, "per" | "window">,
  request: Pick<ActionRequest, "agentId" | "ownerId">,
  now: Date,
): CapKey {
  const windowStart = cap.window === "TOTAL" ? "TOTAL" : windowBounds(cap.window, now).start.toISOString();
  return { per: cap.per, window: cap.window, subject: capSubject(cap.per, request), windowStart };
}

/**
 * `AGENT/DAY/2024-03-01T00:00:00.000Z/<agent id>`. Injective: the first three parts never
 * contain "/", so the subject (last, free-form) cannot make two keys collide.
 */
export function serializeCapKey(key: CapKey): string {
  return `${key.per}/${key.window}/${key.windowStart}/${key.subject}`;
}

/** Spend recorded for a counter; 0 when the view has no entry. */
export function spentOf(view: SpendView, key: string): Money {
  return view.get(key) ?? 0n;
}
