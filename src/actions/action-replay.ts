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
import { decisionDigest, publicReasons, requestOf, spendOf, type DecisionRecord, type PublicReason } from "./decision-record";

/** The decisions an action can have: at submission, and at approval of a held action. */
export type DecisionStage = "SUBMISSION" | "APPROVAL";

export interface StageReplay {
  stage: DecisionStage;
  decidedAt: Date;
  recordedOutcome: string;
  replayedOutcome: string;
  /** The replayed decision is deep-equal to the recorded one (outcome, reasons, caps, policies). */
  matches: boolean;
  reasons: PublicReason[];
}

/**
 * The decision that held (the last stage) and every recorded stage, oldest first; `matches`
 * only when every stage replays to its recorded decision.
 */
export interface ReplayResult extends StageReplay {
  actionId: string;
  stages: StageReplay[];
}

/**
 * What an approval's re-decision amounts to: the approval stands in for REQUIRE_APPROVAL, so
 * an evaluation that would hold the action again allows it (its estimate is reserved).
 */
export function approvalOutcome(evaluated: string): string {
  return evaluated === "PENDING_APPROVAL" ? "ALLOWED" : evaluated;
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

/** The approval's decision record of a held action that an approver approved, if any. */
export function approvalRecordOf(row: Pick<ActionRow, "record">): DecisionRecord | null {
  const approval = (row.record as { approval?: DecisionRecord }).approval;
  return approval ?? null;
}

/** One recorded decision re-taken on its recorded chain versions, input, spend and instant. */
async function replayRecord(record: DecisionRecord, load: VersionLoader): Promise<{ replayed: Decision; matches: boolean }> {
  const chain = await Promise.all(record.policies.map((ref) => load(ref.id, ref.version)));
  const replayed = evaluate(chain, requestOf(record), spendOf(record), new Date(record.at));
  return { replayed, matches: decisionDigest(replayed, record.format) === record.decisionSha256 };
}

/**
 * Every recorded decision of the action re-taken: its submission and, when an approver
 * re-decided it, the approval. The result leads with the decision that held (the approval's
 * when there is one); `replayed` is that decision.
 */
export async function replayDecision(row: ActionRow, load: VersionLoader): Promise<{ replayed: Decision; result: ReplayResult }> {
  const submission = row.record as unknown as DecisionRecord;
  const first = await replayRecord(submission, load);
  const stages: StageReplay[] = [
    {
      stage: "SUBMISSION",
      decidedAt: new Date(submission.at),
      recordedOutcome: row.outcome,
      replayedOutcome: first.replayed.outcome,
      matches: first.matches,
      reasons: publicReasons(first.replayed),
    },
  ];
  let held = first.replayed;
  const approval = approvalRecordOf(row);
  if (approval !== null) {
    const second = await replayRecord(approval, load);
    held = second.replayed;
    stages.push({
      stage: "APPROVAL",
      decidedAt: new Date(approval.at),
      recordedOutcome: approvalOutcome(approval.outcome),
      replayedOutcome: approvalOutcome(second.replayed.outcome),
      matches: second.matches,
      reasons: publicReasons(second.replayed),
    });
  }
  // A record that holds up replays at every stage: a tampered submission is not hidden by an
  // intact approval.
  const matches = stages.every((stage) => stage.matches);
  return { replayed: held, result: { actionId: row.id, ...stages.at(-1)!, matches, stages } };
}

export interface WhatIfChange {
  actionId: string;
  agentId: string;
  action: string;
  estimatedCost: bigint;
  decidedAt: Date;
  recordedOutcome: string;
  proposedOutcome: string;
  reasons: PublicReason[];
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
