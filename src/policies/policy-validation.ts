/**
 * Pure checks of a policy as a client writes it (PolicyInput), before anything is read or
 * written. Each refusal is a UserInputError naming the field by its path in the input
 * (`name`, `scopeId`, `rules[1].pattern`, `caps[0].limit`), never echoing the value beyond
 * what the pattern checker quotes. Checks that need the database (does the role, user or
 * agent exist; may this caller write it) are the service's.
 */
import { ROLE_NAME_PATTERN } from "../auth/roles";
import { UserInputError } from "../errors/errors";
import { validatePattern } from "../policy/pattern";
import {
  CAP_COUNTERS,
  CAP_WINDOWS,
  isExtraSignature,
  MAX_THRESHOLDS,
  POLICY_SCOPES,
  signatureOf,
  RULE_EFFECTS,
  type ActionRule,
  type CapCounter,
  type CapWindow,
  type PolicyMode,
  type PolicyScope,
  type RuleEffect,
  type SpendCap,
} from "../policy/policy-types";
import { isUuid } from "../validation/ids";

export const MAX_POLICY_NAME = 100;
export const MAX_RULES = 200;
export const MAX_CAPS = 50;
/** The largest amount of money accepted: spend counters are signed 64-bit integers. */
export const MAX_MONEY = 9_223_372_036_854_775_807n;
export const POLICY_MODES: readonly PolicyMode[] = ["ENFORCE", "SHADOW"];

export interface RuleDraft {
  pattern: string;
  effect: string;
  maxCostPerAction?: bigint | null;
  overrunAllowance?: bigint | null;
  locked?: boolean | null;
}

export interface CapDraft {
  per: string;
  window: string;
  /** Spend limit (micro-units); exactly one of `limit` and `maxActions`. */
  limit?: bigint | null;
  /** Velocity limit: at most this many allowed actions in the window. */
  maxActions?: number | null;
  overrunAllowance?: bigint | null;
  locked?: boolean | null;
  pattern?: string | null;
  soft?: boolean | null;
  thresholds?: readonly number[] | null;
}

/** PolicyInput as the resolver passes it on (Money already parsed to bigint). */
export interface PolicyDraft {
  name: string;
  scope: string;
  scopeId?: string | null;
  enabled?: boolean | null;
  mode?: string | null;
  rules?: readonly RuleDraft[] | null;
  caps?: readonly CapDraft[] | null;
}

export type RuleContent = Omit<ActionRule, "id">;
export type CapContent = Omit<SpendCap, "id">;

/** A checked draft. null for enabled, mode, rules or caps: not given (default or keep). */
export interface PolicyContent {
  name: string;
  scope: PolicyScope;
  scopeId: string | null;
  enabled: boolean | null;
  mode: PolicyMode | null;
  rules: RuleContent[] | null;
  caps: CapContent[] | null;
}


function oneOf<T extends string>(values: readonly T[], value: unknown, field: string, what: string): T {
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  throw new UserInputError(`Unknown ${what}; expected one of ${values.join(", ")}`, field);
}

function amount(value: unknown, field: string): bigint {
  if (typeof value !== "bigint") throw new UserInputError("Money must be an integer number of micro-units", field);
  if (value < 0n) throw new UserInputError("Money may not be negative", field);
  if (value > MAX_MONEY) throw new UserInputError("Money is larger than the largest amount accepted (2^63 - 1)", field);
  return value;
}

export function checkPolicyName(raw: unknown): string {
  const name = typeof raw === "string" ? raw.trim() : "";
  if (name.length < 1 || name.length > MAX_POLICY_NAME) {
    throw new UserInputError(`Policy name must be 1 to ${MAX_POLICY_NAME} characters`, "name");
  }
  return name;
}

/**
 * scopeId: none for GLOBAL; a role name (ROLE) or an id (USER, AGENT) otherwise. An empty
 * string counts as none. Existence is checked by the service.
 */
export function checkScopeId(scope: PolicyScope, raw: string | null | undefined): string | null {
  const scopeId = raw === undefined || raw === null || raw === "" ? null : raw;
  if (scope === "GLOBAL") {
    if (scopeId !== null) throw new UserInputError("A GLOBAL policy has no scopeId", "scopeId");
    return null;
  }
  if (scopeId === null) throw new UserInputError(`A ${scope} policy needs a scopeId (the ${scopeTarget(scope)})`, "scopeId");
  if (scope === "ROLE" && !ROLE_NAME_PATTERN.test(scopeId)) throw new UserInputError("scopeId is not a role name", "scopeId");
  if (scope !== "ROLE" && !isUuid(scopeId)) throw new UserInputError(`scopeId is not a valid ${scopeTarget(scope)}`, "scopeId");
  return scope === "ROLE" ? scopeId : scopeId.toLowerCase();
}

function scopeTarget(scope: PolicyScope): string {
  return scope === "ROLE" ? "role name" : scope === "USER" ? "user id" : "agent id";
}

export function checkRules(drafts: readonly RuleDraft[]): RuleContent[] {
  if (drafts.length > MAX_RULES) throw new UserInputError(`A policy holds at most ${MAX_RULES} rules`, "rules");
  const seen = new Map<string, number>();
  return drafts.map((draft, index) => {
    const at = `rules[${index}]`;
    const problem = validatePattern(draft.pattern);
    if (problem !== null) throw new UserInputError(problem, `${at}.pattern`);
    const first = seen.get(draft.pattern);
    if (first !== undefined) {
      throw new UserInputError(`${at} repeats the pattern of rules[${first}]: one rule per pattern in a policy`, `${at}.pattern`);
    }
    seen.set(draft.pattern, index);
    const rule: RuleContent = {
      pattern: draft.pattern,
      effect: oneOf<RuleEffect>(RULE_EFFECTS, draft.effect, `${at}.effect`, "rule effect"),
      locked: draft.locked === true,
    };
    if (draft.maxCostPerAction !== undefined && draft.maxCostPerAction !== null) {
      rule.maxCostPerAction = amount(draft.maxCostPerAction, `${at}.maxCostPerAction`);
    }
    if (draft.overrunAllowance !== undefined && draft.overrunAllowance !== null) {
      rule.overrunAllowance = amount(draft.overrunAllowance, `${at}.overrunAllowance`);
    }
    return rule;
  });
}

/**
 * Caps. `per: GLOBAL` (all agents' spend) only in a GLOBAL policy: a narrower scope may not
 * constrain everyone. `per: OWNER` is accepted in every scope, AGENT included: there it caps
 * the owner's total spend as this agent's actions see it; but a cap per OWNER with its own
 * counter (a pattern, ACTIONS or a MINUTE window) not at AGENT scope, because such a counter
 * is charged only by actions whose chain holds the cap (policy/counters.ts) and the owner's
 * other agents would escape it. One cap per signature (per, window, measure, pattern).
 */
export function checkCaps(scope: PolicyScope, drafts: readonly CapDraft[]): CapContent[] {
  if (drafts.length > MAX_CAPS) throw new UserInputError(`A policy holds at most ${MAX_CAPS} caps`, "caps");
  const seen = new Map<string, number>();
  return drafts.map((draft, index) => {
    const at = `caps[${index}]`;
    const cap = checkCap(draft, at);
    if (cap.per === "GLOBAL" && scope !== "GLOBAL") {
      throw new UserInputError("A cap per GLOBAL (all agents) belongs in a GLOBAL policy only", `${at}.per`);
    }
    if (cap.per === "OWNER" && scope === "AGENT" && isExtraSignature(cap)) {
      throw new UserInputError(
        "A cap per OWNER with a pattern, ACTIONS or a MINUTE window belongs in a USER, ROLE or GLOBAL policy: the owner's other agents would not count here",
        `${at}.per`,
      );
    }
    const key = signatureOf(cap);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new UserInputError(`${at} repeats the counter, window, measure and pattern of caps[${first}]: one such cap in a policy`, `${at}.window`);
    }
    seen.set(key, index);
    return cap;
  });
}

function checkCap(draft: CapDraft, at: string): CapContent {
  const per = oneOf<CapCounter>(CAP_COUNTERS, draft.per, `${at}.per`, "cap counter");
  const window = oneOf<CapWindow>(CAP_WINDOWS, draft.window, `${at}.window`, "cap window");
  const hasLimit = draft.limit !== undefined && draft.limit !== null;
  const hasMaxActions = draft.maxActions !== undefined && draft.maxActions !== null;
  if (hasLimit === hasMaxActions) throw new UserInputError("A cap has exactly one of limit (spend) and maxActions (a number of actions)", `${at}.limit`);
  const cap: CapContent = hasMaxActions
    ? { per, window, limit: actionCount(draft.maxActions, `${at}.maxActions`), locked: draft.locked === true, measure: "ACTIONS" }
    : { per, window, limit: amount(draft.limit, `${at}.limit`), locked: draft.locked === true };
  if (draft.overrunAllowance !== undefined && draft.overrunAllowance !== null) {
    if (cap.measure === "ACTIONS") throw new UserInputError("A cap on a number of actions has no overrun allowance", `${at}.overrunAllowance`);
    cap.overrunAllowance = amount(draft.overrunAllowance, `${at}.overrunAllowance`);
  }
  if (draft.pattern !== undefined && draft.pattern !== null) {
    const problem = validatePattern(draft.pattern);
    if (problem !== null) throw new UserInputError(problem, `${at}.pattern`);
    if (draft.pattern !== "*") cap.pattern = draft.pattern;
  }
  if (draft.soft === true) cap.soft = true;
  if (draft.thresholds !== undefined && draft.thresholds !== null && draft.thresholds.length > 0) {
    cap.thresholds = checkThresholds(draft.thresholds, `${at}.thresholds`);
  }
  return cap;
}

function actionCount(value: unknown, field: string): bigint {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new UserInputError("maxActions must be a whole number, 0 or more", field);
  return BigInt(value);
}

/** Percentages of the limit, 1 to 100, at most MAX_THRESHOLDS; stored ascending, without repeats. */
function checkThresholds(values: readonly number[], field: string): number[] {
  if (values.length > MAX_THRESHOLDS) throw new UserInputError(`A cap has at most ${MAX_THRESHOLDS} thresholds`, field);
  for (const value of values) {
    if (!Number.isInteger(value) || value < 1 || value > 100) throw new UserInputError("A threshold is a whole percentage of the limit, 1 to 100", field);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Every pure check of a draft, in field order; the first problem is thrown. */
export function checkPolicyDraft(draft: PolicyDraft): PolicyContent {
  const name = checkPolicyName(draft.name);
  const scope = oneOf<PolicyScope>(POLICY_SCOPES, draft.scope, "scope", "policy scope");
  const scopeId = checkScopeId(scope, draft.scopeId);
  const mode = draft.mode === undefined || draft.mode === null ? null : oneOf<PolicyMode>(POLICY_MODES, draft.mode, "mode", "policy mode");
  return {
    name,
    scope,
    scopeId,
    enabled: typeof draft.enabled === "boolean" ? draft.enabled : null,
    mode,
    rules: draft.rules === undefined || draft.rules === null ? null : checkRules(draft.rules),
    caps: draft.caps === undefined || draft.caps === null ? null : checkCaps(scope, draft.caps),
  };
}

/**
 * Ids for the rules of a new version: a rule keeps the id of the previous version's rule with
 * the same pattern (patterns are unique in a policy), even when its effect, limit or lock
 * changed; a new pattern gets a new id. Caps likewise by signature (per, window, measure, pattern).
 */
export function withRuleIds(previous: readonly ActionRule[], next: readonly RuleContent[], newId: () => string): ActionRule[] {
  const byPattern = new Map(previous.map((rule) => [rule.pattern, rule.id]));
  return next.map((rule) => ({ id: byPattern.get(rule.pattern) ?? newId(), ...rule }));
}

export function withCapIds(previous: readonly SpendCap[], next: readonly CapContent[], newId: () => string): SpendCap[] {
  const byKey = new Map(previous.map((cap) => [signatureOf(cap), cap.id]));
  return next.map((cap) => ({ id: byKey.get(signatureOf(cap)) ?? newId(), ...cap }));
}
