/**
 * What an agent's owner may write without `policies:write`: AGENT policies on their own
 * agents, which are RESTRICTION layers (the policy model in README; src/policy/
 * layered-resolution.ts). A layer is checked when each action is decided, against the chain
 * as it stands then: whatever it says, the outcome is the stricter of the chain and the
 * layer, and its caps apply in addition to the chain's. So no rule or cap of it can loosen
 * anything, today or after the policies above it change, and any rule or cap is accepted;
 * only `locked` is refused (locking binds narrower scopes, and is for those who write every
 * scope). A check of the content against the chain at write time would add nothing: the
 * chain may change the next moment, which is why the evaluator does not rely on one.
 */
import { ForbiddenError } from "../errors/errors";
import type { CapContent, RuleContent } from "./policy-validation";

/** Throws a ForbiddenError naming the field (`rules[2].locked`, `caps[0].locked`) of a lock. */
export function assertNoLocks(rules: readonly RuleContent[], caps: readonly CapContent[]): void {
  rules.forEach((rule, index) => {
    if (rule.locked) throw new ForbiddenError("Only holders of policies:write may lock a rule", { field: `rules[${index}].locked` });
  });
  caps.forEach((cap, index) => {
    if (cap.locked) throw new ForbiddenError("Only holders of policies:write may lock a cap", { field: `caps[${index}].locked` });
  });
}
