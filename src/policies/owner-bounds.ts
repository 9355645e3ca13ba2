/**
 * What an agent's owner may write without `policies:write`: an AGENT policy on their own
 * agent that can only make decisions stricter than the chain as it stands without it (the
 * reference: every enabled ENFORCE policy that applies to the agent, GLOBAL, its owner's
 * roles closed over inheritance, USER, and the agent's other AGENT policies; never the
 * policy being written). Pure: the service loads the reference. Exactly:
 *
 * - `locked` may not be set, on rules or caps (locking is for those who write every scope).
 * - A DENY rule is always accepted.
 * - An ALLOW or REQUIRE_APPROVAL rule with pattern P is accepted only when, for every action
 *   P matches, the reference decides an effect at most as strict (ALLOW under ALLOW;
 *   REQUIRE_APPROVAL under ALLOW or REQUIRE_APPROVAL; nothing under a DENY or where no rule
 *   matches, the default deny) and, where the reference's deciding rules set a max cost per
 *   action (unlocked ones: locked limits keep applying anyway), the rule sets one no higher.
 *   "Every action P matches" is covered exactly by the representative action of P and of
 *   every reference pattern inside P (patterns nest or are disjoint, so those regions are
 *   all the distinct ways the reference can resolve an action of P).
 * - A cap for (per, window) replaces the broader scopes' unlocked caps for the same
 *   (per, window) (DESIGN.md, Governance, rule 3), so it is accepted only when its limit is
 *   no higher than each of them. With none to replace, any limit only adds a restriction.
 */
import { resolveCaps } from "../policy/cap-resolution";
import { ForbiddenError } from "../errors/errors";
import { matchesPattern, representativeAction } from "../policy/pattern";
import { effectRank, scopeRank, type Policy } from "../policy/policy-types";
import { resolveRules, type RuleRef } from "../policy/rule-resolution";
import type { CapContent, RuleContent } from "./policy-validation";

function refused(message: string, field: string): ForbiddenError {
  return new ForbiddenError(message, { field });
}

const said = (rule: RuleRef) => `${rule.effect} by ${rule.pattern} in ${rule.scope} policy "${rule.policyName}"`;

/**
 * The patterns whose representative actions cover every way the reference can resolve an
 * action `pattern` matches: the pattern itself and every reference pattern inside it.
 */
function regionsOf(pattern: string, reference: readonly Policy[]): string[] {
  const inside = reference
    .flatMap((policy) => policy.rules.map((rule) => rule.pattern))
    .filter((other) => other !== pattern && matchesPattern(pattern, representativeAction(other)));
  return [pattern, ...new Set(inside)];
}

function checkRule(rule: RuleContent, at: string, reference: readonly Policy[]): void {
  if (rule.locked) throw refused("Only holders of policies:write may lock a rule", `${at}.locked`);
  if (rule.effect === "DENY") return;
  for (const region of regionsOf(rule.pattern, reference)) {
    const resolution = resolveRules(reference, representativeAction(region));
    const decided = resolution.decidingRule;
    if (decided === null) {
      throw refused(`No broader rule allows ${region} (the default is deny): your policy may only restrict`, `${at}.effect`);
    }
    if (effectRank(rule.effect) < effectRank(decided.effect)) {
      throw refused(`${rule.effect} would loosen ${region}, which is ${said(decided)}: your policy may only restrict`, `${at}.effect`);
    }
    const limits = resolution.group
      .filter((other) => !other.locked && other.maxCostPerAction !== null)
      .map((other) => other.maxCostPerAction as bigint);
    if (limits.length === 0) continue;
    const tightest = limits.reduce((a, b) => (b < a ? b : a));
    if (rule.maxCostPerAction === undefined || rule.maxCostPerAction > tightest) {
      throw refused(`${region} is limited to ${tightest} per action; your rule must set maxCostPerAction no higher`, `${at}.maxCostPerAction`);
    }
  }
}

function checkCap(cap: CapContent, at: string, reference: readonly Policy[]): void {
  if (cap.locked) throw refused("Only holders of policies:write may lock a cap", `${at}.locked`);
  const group = resolveCaps(reference).find((candidate) => candidate.per === cap.per && candidate.window === cap.window);
  const replaced = (group?.applied ?? []).filter((other) => !other.locked && scopeRank(other.scope) < scopeRank("AGENT"));
  for (const other of replaced) {
    if (cap.limit > other.limit) {
      throw refused(
        `This cap would replace the ${other.scope} cap of ${other.limit} per ${cap.per} per ${cap.window} (policy "${other.policyName}"); its limit may be no higher`,
        `${at}.limit`,
      );
    }
  }
}

/**
 * Throws a ForbiddenError naming the field (`rules[2].effect`, `caps[0].limit`, ...) when
 * the rules or caps could make any decision more permissive than `chain` decides it.
 */
export function assertOnlyRestricts(chain: readonly Policy[], rules: readonly RuleContent[], caps: readonly CapContent[]): void {
  const reference = chain.filter((policy) => policy.enabled && policy.mode === "ENFORCE");
  rules.forEach((rule, index) => checkRule(rule, `rules[${index}]`, reference));
  caps.forEach((cap, index) => checkCap(cap, `caps[${index}]`, reference));
}
