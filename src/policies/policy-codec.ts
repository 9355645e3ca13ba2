/**
 * Policies as the service hands them out (the evaluator's `Policy` plus bookkeeping), and
 * their stored form: money as decimal strings in jsonb, times as ISO strings in snapshots.
 * Pure conversions; a stored value that does not parse is a bug or a tampered row and throws.
 */
import type { policies, StoredCap, StoredPolicySnapshot, StoredRule } from "../db/tables/policies";
import type { ActionRule, Policy, SpendCap } from "../policy/policy-types";

/** The seeded default GLOBAL policy (migration 0006): editable, never deletable. */
export const DEFAULT_POLICY_ID = "00000000-0000-4000-8000-000000000001";

export type PolicyRow = typeof policies.$inferSelect;

/** A policy as the service returns it: usable as an evaluator `Policy` as it is. */
export interface PolicyRecord extends Policy {
  builtIn: boolean;
  createdAt: Date;
  createdBy: string | null;
  updatedAt: Date;
  updatedBy: string | null;
  deletedAt: Date | null;
}

export type PolicyChange = "CREATED" | "UPDATED" | "ENABLED" | "DISABLED" | "MODE_CHANGED" | "DELETED";

export interface PolicyVersionRecord {
  policyId: string;
  version: number;
  change: PolicyChange;
  changedAt: Date;
  changedBy: string | null;
  /** The whole policy as this version left it. */
  snapshot: PolicyRecord;
}

const INTEGER = /^-?\d+$/;

function money(text: string): bigint {
  if (!INTEGER.test(text)) throw new Error("stored money is not an integer string");
  return BigInt(text);
}

export function storeRule(rule: ActionRule): StoredRule {
  return {
    id: rule.id,
    pattern: rule.pattern,
    effect: rule.effect,
    maxCostPerAction: rule.maxCostPerAction === undefined ? null : rule.maxCostPerAction.toString(),
    ...(rule.overrunAllowance === undefined ? {} : { overrunAllowance: rule.overrunAllowance.toString() }),
    locked: rule.locked,
  };
}

export function storeCap(cap: SpendCap): StoredCap {
  const stored: StoredCap = { id: cap.id, per: cap.per, window: cap.window, limit: cap.limit.toString(), locked: cap.locked };
  if (cap.overrunAllowance !== undefined) stored.overrunAllowance = cap.overrunAllowance.toString();
  if (cap.measure !== undefined) stored.measure = cap.measure;
  if (cap.pattern !== undefined) stored.pattern = cap.pattern;
  if (cap.soft !== undefined) stored.soft = cap.soft;
  if (cap.thresholds !== undefined) stored.thresholds = [...cap.thresholds];
  return stored;
}

export function loadRule(stored: StoredRule): ActionRule {
  const rule: ActionRule = { id: stored.id, pattern: stored.pattern, effect: stored.effect, locked: stored.locked };
  if (stored.maxCostPerAction !== null) rule.maxCostPerAction = money(stored.maxCostPerAction);
  if (stored.overrunAllowance !== undefined) rule.overrunAllowance = money(stored.overrunAllowance);
  return rule;
}

export function loadCap(stored: StoredCap): SpendCap {
  const cap: SpendCap = { id: stored.id, per: stored.per, window: stored.window, limit: money(stored.limit), locked: stored.locked };
  if (stored.overrunAllowance !== undefined) cap.overrunAllowance = money(stored.overrunAllowance);
  if (stored.measure !== undefined) cap.measure = stored.measure;
  if (stored.pattern !== undefined) cap.pattern = stored.pattern;
  if (stored.soft !== undefined) cap.soft = stored.soft;
  if (stored.thresholds !== undefined) cap.thresholds = [...stored.thresholds];
  return cap;
}

export function fromRow(row: PolicyRow): PolicyRecord {
  return {
    id: row.id,
    version: row.version,
    name: row.name,
    scope: row.scope,
    scopeId: row.scopeId,
    enabled: row.enabled,
    mode: row.mode,
    authority: row.authority,
    rules: row.rules.map(loadRule),
    caps: row.caps.map(loadCap),
    builtIn: row.builtIn,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    deletedAt: row.deletedAt,
  };
}

export function toSnapshot(record: PolicyRecord): StoredPolicySnapshot {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    scopeId: record.scopeId,
    enabled: record.enabled,
    mode: record.mode,
    authority: record.authority,
    version: record.version,
    builtIn: record.builtIn,
    rules: record.rules.map(storeRule),
    caps: record.caps.map(storeCap),
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdBy,
    updatedAt: record.updatedAt.toISOString(),
    updatedBy: record.updatedBy,
    deletedAt: record.deletedAt === null ? null : record.deletedAt.toISOString(),
  };
}

export function fromSnapshot(snapshot: StoredPolicySnapshot): PolicyRecord {
  return {
    id: snapshot.id,
    version: snapshot.version,
    name: snapshot.name,
    scope: snapshot.scope,
    scopeId: snapshot.scopeId,
    enabled: snapshot.enabled,
    mode: snapshot.mode,
    authority: snapshot.authority ?? "OVERRIDE",
    rules: snapshot.rules.map(loadRule),
    caps: snapshot.caps.map(loadCap),
    builtIn: snapshot.builtIn,
    createdAt: new Date(snapshot.createdAt),
    createdBy: snapshot.createdBy,
    updatedAt: new Date(snapshot.updatedAt),
    updatedBy: snapshot.updatedBy,
    deletedAt: snapshot.deletedAt === null ? null : new Date(snapshot.deletedAt),
  };
}

/** The evaluator's view of a record: exactly the `Policy` fields, nothing else. */
export function toPolicy(record: PolicyRecord): Policy {
  const { id, version, name, scope, scopeId, enabled, mode, authority, rules, caps } = record;
  return { id, version, name, scope, scopeId, enabled, mode, authority, rules, caps };
}
