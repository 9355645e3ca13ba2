import { expect } from "vitest";
import type { Outcome, ReasonCode } from "../../src/policy/decision-types";
import { evaluate } from "../../src/policy/evaluator";
import type { CapCounter, CapWindow, Money, Policy } from "../../src/policy/policy-types";
import { NOW, request, spendView, u } from "./policy-builders";

/** One row of an evaluator decision table: a chain, an action, and what the decision must be. */
export interface DecisionCase {
  name: string;
  chain: Policy[];
  action?: string;
  cost?: Money;
  spend?: [CapCounter, CapWindow, Money][];
  outcome: Outcome;
  /** "policyId:ruleId" of the deciding rule, or null. */
  rule?: string | null;
  reasons?: ReasonCode[];
  /** Every applicable cap as "policyId:capId", with whether it fits. */
  caps?: [string, boolean][];
  wouldBe?: Outcome | null;
}

/** Evaluates the row (default action `llm.completion` at 1 unit) and checks what it states. */
export function checkDecision(c: DecisionCase): void {
  const decision = evaluate(c.chain, request(c.action ?? "llm.completion", c.cost ?? u(1)), spendView(NOW, c.spend ?? []), NOW);
  expect(decision.outcome).toBe(c.outcome);
  const deciding = decision.decidingRule;
  if (c.rule !== undefined) expect(deciding === null ? null : `${deciding.policyId}:${deciding.ruleId}`).toBe(c.rule);
  if (c.reasons !== undefined) expect(decision.reasons.map((r) => r.code)).toEqual(c.reasons);
  if (c.caps !== undefined) expect(decision.caps.map((k) => [`${k.policyId}:${k.capId}`, k.fits])).toEqual(c.caps);
  expect(decision.wouldBe?.outcome ?? null).toBe(c.wouldBe ?? null);
  for (const reason of decision.reasons) expect(reason.message.length).toBeGreaterThan(20);
}
