/**
 * The action rules of some policies, found by pattern: the rules matching an action are the
 * ones whose pattern is `*`, one of the action's prefixes followed by `.*`, or the action
 * itself, so looking them up costs the depth of the action name, not the number of rules.
 *
 * The index is built on the second question: a chain asked once (a raw policy list evaluated
 * once) is scanned as before, a chain asked again (a prepared chain, cached per agent, or an
 * explanation asking for every pattern) gets its rules indexed and every later lookup is a
 * handful of map reads. Either way the answer is the same set: every rule for which
 * `matchesPattern` holds (each hit is still checked with it).
 */
import { matchesPattern } from "./pattern";
import type { Policy } from "./policy-types";
import { ruleRef, type RuleRef } from "./rule-resolution";

export class RuleIndex {
  private byPattern: Map<string, RuleRef[]> | undefined;
  private asked = 0;

  constructor(private readonly policies: readonly Policy[]) {}

  /** Every rule of these policies whose pattern matches `action`, in no particular order. */
  matching(action: string): RuleRef[] {
    if (this.byPattern === undefined && this.asked++ === 0) return this.scan(action);
    const index = (this.byPattern ??= this.build());
    const found: RuleRef[] = [];
    const take = (pattern: string) => {
      const refs = index.get(pattern);
      if (refs) for (const ref of refs) if (matchesPattern(ref.pattern, action)) found.push(ref);
    };
    take("*");
    // `a.*` for `a.b`, `a.b.*` for `a.b.c`: a prefix pattern needs at least one segment more.
    for (let dot = action.indexOf("."); dot !== -1 && dot + 1 < action.length; dot = action.indexOf(".", dot + 1)) {
      take(`${action.slice(0, dot + 1)}*`);
    }
    // An action ending in `.*` (not a valid name, but asked literally) was its own last prefix.
    if (action !== "*" && !action.endsWith(".*")) take(action);
    return found;
  }

  private scan(action: string): RuleRef[] {
    return this.policies.flatMap((policy) => policy.rules.filter((rule) => matchesPattern(rule.pattern, action)).map((rule) => ruleRef(policy, rule)));
  }

  private build(): Map<string, RuleRef[]> {
    const index = new Map<string, RuleRef[]>();
    for (const policy of this.policies) {
      for (const rule of policy.rules) {
        // Shared by every decision that matches the rule: frozen, so none can change another's.
        const ref = Object.freeze(ruleRef(policy, rule));
        const refs = index.get(rule.pattern);
        if (refs) refs.push(ref);
        else index.set(rule.pattern, [ref]);
      }
    }
    return index;
  }
}
