/**
 * What a decision leaves behind for a reviewer: the input, the instant, the spend view it
 * read, the policies (id and version) it considered, and a digest of the decision itself.
 * Stored as JSON (money as decimal strings, since JSON has no exact 64-bit integer), kept
 * small (it is written with every action); `replay` rebuilds the evaluator's input from it
 * and must reach a decision with the same digest.
 */
import crypto from "node:crypto";
import { countersFor, type CounterSpec } from "../policy/counters";
import type { Decision, DecisionCore, Reason } from "../policy/decision-types";
import { isExtraSignature, type ActionRequest, type Money, type SpendView } from "../policy/policy-types";

/**
 * v2: policies carry their authority (OVERRIDE or RESTRICTION) in every reference of the
 * decision. A v1 record (written before) is digested without it (`decisionDigest`).
 */
export const DECISION_FORMAT = "decision-v2";
export type DecisionFormat = typeof DECISION_FORMAT | "decision-v1";

export interface DecisionRecord {
  format: DecisionFormat;
  /** ISO instant the decision was taken at (windows are computed from it). */
  at: string;
  request: {
    agentId: string;
    ownerId: string;
    ownerRoles: string[];
    action: string;
    resource: string | null;
    estimatedCost: string;
    /** Present only when the action named a run (records without it replay as before). */
    runId?: string;
  };
  /**
   * Spend before the decision of each of the request's fifteen counters, in the order of
   * `countersFor(request, at)` (the keys follow from the request and the instant).
   */
  spend: string[];
  /**
   * Spend before the decision of each extra counter the chain made it read (velocity, pattern
   * and run caps: policy/counters.ts), by key; only when there were any.
   */
  extraSpend?: Record<string, string>;
  /** Every policy version the evaluation considered, enforced and shadow. */
  policies: { id: string; version: number; mode: string }[];
  outcome: string;
  /**
   * SHA-256 of the decision's canonical JSON (outcome, reasons, deciding rule, every cap
   * with its spend before and after, policies, the shadow pass): a replay must reproduce it
   * exactly. The readable parts are kept beside it (the action's reasons, the audit row).
   */
  decisionSha256: string;
}

/** JSON-safe deep copy: bigint becomes its decimal string; undefined members are dropped. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== undefined)
        .map(([key, inner]) => [key, jsonSafe(inner)]),
    );
  }
  return value;
}

/** JSON with object keys sorted at every depth: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  const sorted = (inner: unknown): unknown => {
    if (Array.isArray(inner)) return inner.map(sorted);
    if (inner !== null && typeof inner === "object") {
      const record = inner as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(record)
          .sort()
          .map((key) => [key, sorted(record[key])]),
      );
    }
    return inner;
  };
  return JSON.stringify(sorted(jsonSafe(value)));
}

/**
 * SHA-256 of the decision as JSON (bigints as strings). The evaluator builds every decision
 * object in one fixed shape and key order, so the same decision always serializes alike and
 * no key sorting is needed; the digest is never computed from a stored (reordered) copy.
 */
export function decisionDigest(decision: Decision, format: DecisionFormat = DECISION_FORMAT): string {
  // A v1 decision had no authorities: every policy of then counted as OVERRIDE, which is
  // what a v1 record's versions load as (policy-codec.ts), so leaving them out reproduces it.
  const legacy = format === "decision-v1";
  const json = JSON.stringify(decision, (key, value: unknown) =>
    legacy && key === "authority" ? undefined : typeof value === "bigint" ? value.toString() : value,
  );
  return crypto.createHash("sha256").update(json).digest("hex");
}

/**
 * `counters`: the counters the decision read (`decisionCounters`), when the caller has them:
 * the base ones are stored in `countersFor` order, the extra ones by key. Without them, the
 * request's base counters.
 */
export function buildDecisionRecord(request: ActionRequest, spend: SpendView, decision: Decision, at: Date, counters?: readonly CounterSpec[]): DecisionRecord {
  const baseKeys = counters === undefined ? countersFor(request, at).map((counter) => counter.key) : counters.filter((spec) => !isExtraSignature(spec)).map((spec) => spec.key);
  const extraKeys = (counters ?? []).filter(isExtraSignature).map((spec) => spec.key);
  const considered = new Map<string, { id: string; version: number; mode: string }>();
  for (const ref of [...decision.policies, ...(decision.wouldBe?.policies ?? [])]) {
    considered.set(`${ref.id}@${ref.version}`, { id: ref.id, version: ref.version, mode: ref.mode });
  }
  return {
    format: DECISION_FORMAT,
    at: at.toISOString(),
    request: {
      agentId: request.agentId,
      ownerId: request.ownerId,
      ownerRoles: [...request.ownerRoles],
      action: request.action,
      resource: request.resource ?? null,
      estimatedCost: request.estimatedCost.toString(),
      ...(request.runId ? { runId: request.runId } : {}),
    },
    spend: baseKeys.map((key) => (spend.get(key) ?? 0n).toString()),
    ...(extraKeys.length === 0 ? {} : { extraSpend: Object.fromEntries(extraKeys.map((key) => [key, (spend.get(key) ?? 0n).toString()])) }),
    policies: [...considered.values()],
    outcome: decision.outcome,
    decisionSha256: decisionDigest(decision),
  };
}

export function requestOf(record: DecisionRecord): ActionRequest {
  return { ...record.request, estimatedCost: BigInt(record.request.estimatedCost), runId: record.request.runId ?? null };
}

export function spendOf(record: DecisionRecord): Map<string, Money> {
  const counters = countersFor(record.request, new Date(record.at));
  const spend = new Map(counters.map((counter, index) => [counter.key, BigInt(record.spend[index] ?? "0")]));
  for (const [key, value] of Object.entries(record.extraSpend ?? {})) spend.set(key, BigInt(value));
  return spend;
}

/**
 * A reason as the API, the POLICY_DENIED error and the audit show it: the message, and the
 * rule or cap it names as fields (money as strings), so a client need not parse the text.
 */
export interface PublicReason {
  code: string;
  message: string;
  scope?: string;
  scopeId?: string | null;
  authority?: string;
  policyId?: string;
  policyName?: string;
  policyVersion?: number;
  ruleId?: string;
  pattern?: string;
  effect?: string;
  capId?: string;
  per?: string;
  window?: string;
  counter?: string;
  windowStart?: string;
  windowEnd?: string | null;
  limit?: string;
  spent?: string;
  cost?: string;
  /** ACTIONS for a velocity cap (limit and spent are numbers of actions). */
  measure?: string;
}

export function publicReason(reason: Reason): PublicReason {
  const out: PublicReason = { code: reason.code, message: reason.message };
  const part = reason.cap ?? reason.rule;
  if (part) {
    Object.assign(out, {
      scope: part.scope,
      scopeId: part.scopeId,
      authority: part.authority,
      policyId: part.policyId,
      policyName: part.policyName,
      policyVersion: part.policyVersion,
    });
  }
  if (reason.rule) {
    out.ruleId = reason.rule.ruleId;
    out.pattern = reason.rule.pattern;
    out.effect = reason.rule.effect;
    if (reason.code === "COST_OVER_RULE_MAX" && reason.rule.maxCostPerAction !== null) out.limit = reason.rule.maxCostPerAction.toString();
  }
  if (reason.cap) {
    const cap = reason.cap;
    Object.assign(out, {
      capId: cap.capId,
      per: cap.per,
      window: cap.window,
      counter: cap.key,
      windowStart: cap.windowStart,
      windowEnd: cap.windowEnd,
      limit: cap.limit.toString(),
      spent: cap.spentBefore.toString(),
      ...(cap.measure === undefined ? {} : { measure: cap.measure }),
      ...(cap.pattern === undefined ? {} : { pattern: cap.pattern }),
    });
  }
  if (reason.cost !== undefined) out.cost = reason.cost.toString();
  return out;
}

export function publicReasons(core: Pick<DecisionCore, "reasons">): PublicReason[] {
  return core.reasons.map(publicReason);
}
