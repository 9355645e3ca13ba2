/**
 * Replaying recorded decisions: against the policy versions they recorded (an audit check:
 * the same outcome, the same reasons), or with a proposed policy in the chain (what-if: which
 * decisions would it change). Both read the recorded input, instant and spend view; the
 * record holds all fifteen counters of the request, so any proposed cap finds its spend.
 */
import crypto from "node:crypto";
import type { DbOrTx } from "../db/database";
import type { Decision } from "../policy/decision-types";
import { evaluate } from "../policy/evaluator";
import type { Policy } from "../policy/policy-types";
import { toPolicy } from "../policies/policy-codec";
import { findVersion } from "../policies/policy.repository";
import { setImmediate as setImmediatePromise } from "node:timers/promises";
import type { ActionRow, ReplayRow } from "./action.repository";
import { decisionDigest, publicReasons, requestOf, spendOf, type DecisionRecord } from "./decision-record";

export interface ReplayResult {
  actionId: string;
  recordedOutcome: string;
  replayedOutcome: string;
  /** The replayed decision is deep-equal to the recorded one (outcome, reasons, caps, policies). */
  matches: boolean;
  reasons: { code: string; message: string }[];
}

/** Loads policy versions once per (id, version) for a whole replay. */
export function createVersionLoader(db: DbOrTx) {
  const cache = new Map<string, Promise<Policy>>();
  return (id: string, version: number): Promise<Policy> => {
    const key = `${id}@${version}`;
    let loaded = cache.get(key);
    if (!loaded) {
      loaded = findVersion(db, id, version).then((found) => {
        if (!found) throw new Error(`policy version ${key} of a recorded decision is missing`);
        return toPolicy(found.snapshot);
      });
      cache.set(key, loaded);
    }
    return loaded;
  };
}

export type VersionLoader = ReturnType<typeof createVersionLoader>;

/** The first decision of the action (its submission), re-taken on its recorded input. */
export async function replayDecision(row: ActionRow, load: VersionLoader): Promise<{ replayed: Decision; result: ReplayResult }> {
  const record = row.record as unknown as DecisionRecord;
  const chain = await Promise.all(record.policies.map((ref) => load(ref.id, ref.version)));
  const replayed = evaluate(chain, requestOf(record), spendOf(record), new Date(record.at));
  return {
    replayed,
    result: {
      actionId: row.id,
      recordedOutcome: row.outcome,
      replayedOutcome: replayed.outcome,
      matches: decisionDigest(replayed, record.format) === record.decisionSha256,
      reasons: publicReasons(replayed),
    },
  };
}

export interface WhatIfChange {
  actionId: string;
  agentId: string;
  action: string;
  estimatedCost: bigint;
  decidedAt: Date;
  recordedOutcome: string;
  proposedOutcome: string;
  reasons: { code: string; message: string }[];
}

export interface WhatIfReport {
  considered: number;
  changed: number;
  newlyDenied: number;
  newlyAllowed: number;
  newlyHeld: number;
  changes: WhatIfChange[];
}

/**
 * Each recorded action re-decided with `proposed` in its chain (replacing the recorded
 * version of `replaces`, when given), on its recorded spend. Simplification, stated: every
 * action is judged on the spend it was recorded with; the proposal's effect on later spend
 * (an action it would have denied charged nothing) is not carried forward.
 */
export async function whatIf(pages: AsyncIterable<readonly ReplayRow[]>, proposed: Policy, replaces: string | null, load: VersionLoader): Promise<WhatIfReport> {
  const report: WhatIfReport = { considered: 0, changed: 0, newlyDenied: 0, newlyAllowed: 0, newlyHeld: 0, changes: [] };
  for await (const rows of pages) {
    for (let start = 0; start < rows.length; start += YIELD_EVERY) {
      // Replaying is CPU work: hand the event loop back between slices so other requests
      // (and health checks) are served while a long what-if runs.
      await setImmediatePromise();
      for (const row of rows.slice(start, start + YIELD_EVERY)) await replayOne(row, proposed, replaces, load, report);
    }
  }
  return report;
}

/** How many actions are replayed between two turns of the event loop. */
const YIELD_EVERY = 25;

async function replayOne(row: ReplayRow, proposed: Policy, replaces: string | null, load: VersionLoader, report: WhatIfReport): Promise<void> {
  const record = row.record as unknown as DecisionRecord;
  const recorded = await Promise.all(record.policies.filter((ref) => ref.id !== replaces).map((ref) => load(ref.id, ref.version)));
  const decision = evaluate([...recorded, proposed], requestOf(record), spendOf(record), new Date(record.at));
  report.considered += 1;
  if (decision.outcome === row.outcome) return;
  report.changed += 1;
  if (decision.outcome === "DENIED") report.newlyDenied += 1;
  else if (decision.outcome === "ALLOWED") report.newlyAllowed += 1;
  else report.newlyHeld += 1;
  report.changes.push({
    actionId: row.id,
    agentId: row.agentId,
    action: row.action,
    estimatedCost: row.estimatedCost,
    decidedAt: row.decidedAt,
    recordedOutcome: row.outcome,
    proposedOutcome: decision.outcome,
    reasons: publicReasons(decision),
  });
}

/** A stand-in id for the proposed policy (never stored). */
export const proposedPolicyId = () => crypto.randomUUID();
