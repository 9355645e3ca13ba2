/**
 * Spend per counter and window, with the room left in each cap that reads it. Counters hold
 * every charge whatever the caps (policy/counters.ts), so a report is exact with or without
 * caps; caps are the enforced ones that apply (resolveCaps: the deciding scope's and locked
 * broader ones).
 */
import { resolveCaps } from "../policy/cap-resolution";
import { appliesTo } from "../policy/policy-chain";
import { countersFor } from "../policy/counters";
import { CAP_WINDOWS, isExtraSignature, type CapCounter, type CapWindow, type Money, type Policy, type PolicyScope } from "../policy/policy-types";
import type { DbOrTx } from "../db/database";
import { adjustedByCounter } from "./spend-adjustments";
import { readCounters } from "./spend-ledger";

export interface CapRoom {
  policyId: string;
  policyName: string;
  policyVersion: number;
  scope: PolicyScope;
  capId: string;
  limit: Money;
  locked: boolean;
  /** limit - spent, never below 0 (an overrun can take spend past a limit). */
  remaining: Money;
}

export interface SpendWindow {
  window: CapWindow;
  counter: string;
  windowStart: Date | null;
  windowEnd: Date | null;
  reserved: Money;
  settled: Money;
  spent: Money;
  /** The net of the adjustments on this counter (signed; included in settled). */
  adjusted: Money;
  caps: CapRoom[];
  /** The least room among the caps; null when no cap reads this counter. */
  remaining: Money | null;
}

export interface SpendReport {
  per: CapCounter;
  subject: string;
  at: Date;
  windows: SpendWindow[];
}

/**
 * The report of one subject: an agent (per AGENT), an owner (per OWNER) or everyone (per
 * GLOBAL). `chain` and `ownerRoles` are those of an agent of the subject (for OWNER and
 * GLOBAL, a chain without AGENT policies), `ids` the agent and owner the counters belong to.
 */
export async function spendReport(
  db: DbOrTx,
  per: CapCounter,
  ids: { agentId: string; ownerId: string },
  chain: readonly Policy[],
  ownerRoles: readonly string[],
  at: Date,
): Promise<SpendReport> {
  const specs = countersFor(ids, at)
    .filter((spec) => spec.per === per)
    .sort((a, b) => CAP_WINDOWS.indexOf(a.window) - CAP_WINDOWS.indexOf(b.window));
  const keys = specs.map((spec) => spec.key);
  const [rows, adjustments] = await Promise.all([readCounters(db, keys), adjustedByCounter(db, keys)]);
  const request = { ...ids, ownerRoles };
  const enforced = chain.filter((policy) => policy.enabled && policy.mode === "ENFORCE" && appliesTo(policy, request));
  // The report's counters are the base ones: velocity, pattern and run caps read counters of their own.
  const groups = resolveCaps(enforced).filter((group) => group.per === per && !isExtraSignature(group));
  const windows = specs.map((spec): SpendWindow => {
    const row = rows.get(spec.key);
    const reserved = row?.reserved ?? 0n;
    const settled = row?.settled ?? 0n;
    const spent = reserved + settled;
    const caps = (groups.find((group) => group.window === spec.window)?.applied ?? []).map((cap) => ({
      policyId: cap.policyId,
      policyName: cap.policyName,
      policyVersion: cap.policyVersion,
      scope: cap.scope,
      capId: cap.capId,
      limit: cap.limit,
      locked: cap.locked,
      remaining: cap.limit > spent ? cap.limit - spent : 0n,
    }));
    const remaining = caps.length === 0 ? null : caps.reduce((least, cap) => (cap.remaining < least ? cap.remaining : least), caps[0]!.remaining);
    return { window: spec.window, counter: spec.key, windowStart: spec.windowStart, windowEnd: spec.windowEnd, reserved, settled, spent, adjusted: adjustments.get(spec.key) ?? 0n, caps, remaining };
  });
  return { per, subject: specs[0]?.subject ?? "", at, windows };
}
