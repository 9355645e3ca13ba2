import { describe, expect, it } from "vitest";
import type { Outcome, ReasonCode } from "../../src/policy/decision-types";
import { evaluate } from "../../src/policy/evaluator";
import {
  type CapCounter,
  type CapWindow,
  type Money,
  type Policy,
} from "../../src/policy/policy-types";
import { allowAll, cap, NOW, policy, request, rule, spendView, u } from "../support/policy-builders";

interface Case {
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

const cases: Case[] = [
  // Rule 2: no matching rule
  { name: "empty chain: GLOBAL default deny", chain: [], outcome: "DENIED", rule: null, reasons: ["NO_MATCHING_RULE"] },
  {
    name: "llm.* does not match the bare prefix llm",
    chain: [policy("g", "GLOBAL", { rules: [rule("r", "llm.*", "ALLOW")] })],
    action: "llm",
    outcome: "DENIED",
    rule: null,
    reasons: ["NO_MATCHING_RULE"],
  },
  // Rule 2: scope specificity beats pattern specificity
  {
    name: "AGENT ALLOW overrides GLOBAL DENY",
    chain: [policy("g", "GLOBAL", { rules: [rule("deny", "*", "DENY")] }), policy("a", "AGENT", { rules: [rule("ok", "llm.*", "ALLOW")] })],
    outcome: "ALLOWED",
    rule: "a:ok",
    reasons: ["RULE_ALLOW"],
  },
  {
    name: "USER REQUIRE_APPROVAL over ROLE ALLOW, even with a broader pattern",
    chain: [policy("r", "ROLE", { rules: [rule("ok", "llm.completion", "ALLOW")] }), policy("u", "USER", { rules: [rule("ask", "llm.*", "REQUIRE_APPROVAL")] })],
    outcome: "PENDING_APPROVAL",
    rule: "u:ask",
    reasons: ["RULE_REQUIRE_APPROVAL"],
  },
  {
    name: "ROLE * ALLOW beats GLOBAL exact DENY",
    chain: [policy("g", "GLOBAL", { rules: [rule("no", "llm.completion", "DENY")] }), policy("r", "ROLE", { rules: [rule("all", "*", "ALLOW")] })],
    outcome: "ALLOWED",
    rule: "r:all",
  },
  {
    name: "AGENT DENY beats USER ALLOW",
    chain: [policy("u", "USER", { rules: [rule("ok", "*", "ALLOW")] }), policy("a", "AGENT", { rules: [rule("no", "llm.*", "DENY")] })],
    outcome: "DENIED",
    rule: "a:no",
    reasons: ["RULE_DENY"],
  },
  // Rule 2: pattern specificity inside one scope
  {
    name: "inside a scope: prefix beats *",
    chain: [policy("g", "GLOBAL", { rules: [rule("no", "*", "DENY"), rule("ok", "llm.*", "ALLOW")] })],
    outcome: "ALLOWED",
    rule: "g:ok",
  },
  {
    name: "inside a scope: longer prefix beats shorter prefix",
    chain: [policy("g", "GLOBAL", { rules: [rule("ok", "llm.*", "ALLOW"), rule("no", "llm.chat.*", "DENY")] })],
    action: "llm.chat.stream",
    outcome: "DENIED",
    rule: "g:no",
  },
  {
    name: "inside a scope: exact beats prefix, across two policies of the scope",
    chain: [policy("g1", "GLOBAL", { rules: [rule("ok", "llm.*", "ALLOW")] }), policy("g2", "GLOBAL", { rules: [rule("ask", "llm.completion", "REQUIRE_APPROVAL")] })],
    outcome: "PENDING_APPROVAL",
    rule: "g2:ask",
  },
  // Rule 2: ties
  {
    name: "tie across two ROLE policies: DENY over ALLOW",
    chain: [policy("r-mgr", "ROLE", { rules: [rule("ok", "email.send", "ALLOW")] }), policy("r-usr", "ROLE", { scopeId: "USER", rules: [rule("no", "email.send", "DENY")] })],
    action: "email.send",
    outcome: "DENIED",
    rule: "r-usr:no",
  },
  {
    name: "tie across two ROLE policies: REQUIRE_APPROVAL over ALLOW",
    chain: [policy("r-mgr", "ROLE", { rules: [rule("ask", "email.*", "REQUIRE_APPROVAL")] }), policy("r-usr", "ROLE", { scopeId: "USER", rules: [rule("ok", "email.*", "ALLOW")] })],
    action: "email.send",
    outcome: "PENDING_APPROVAL",
    rule: "r-mgr:ask",
  },
  {
    name: "tie: every max cost of the tie group applies",
    chain: [policy("r-mgr", "ROLE", { rules: [rule("ok", "llm.*", "ALLOW", { maxCostPerAction: u(5) })] }), policy("r-usr", "ROLE", { scopeId: "USER", rules: [rule("ok", "llm.*", "ALLOW")] })],
    cost: u(6),
    outcome: "DENIED",
    rule: "r-mgr:ok",
    reasons: ["COST_OVER_RULE_MAX"],
  },
  {
    name: "tie: a limit of a tied rule applies even when another tied rule decides the effect",
    chain: [policy("r-mgr", "ROLE", { rules: [rule("ok", "llm.*", "ALLOW", { maxCostPerAction: u(5) })] }), policy("r-usr", "ROLE", { scopeId: "USER", rules: [rule("ask", "llm.*", "REQUIRE_APPROVAL")] })],
    cost: u(6),
    outcome: "DENIED",
    rule: "r-usr:ask",
    reasons: ["COST_OVER_RULE_MAX"],
  },
  // Applicability: disabled and other subjects' policies
  {
    name: "a disabled policy is ignored",
    chain: [allowAll(), policy("a", "AGENT", { enabled: false, rules: [rule("no", "*", "DENY")] })],
    outcome: "ALLOWED",
    rule: "g:all",
  },
  {
    name: "ROLE policy of a role the owner lacks, USER and AGENT policies of others are ignored",
    chain: [
      allowAll(),
      policy("r-adm", "ROLE", { scopeId: "ADMIN", rules: [rule("no", "*", "DENY")] }),
      policy("u2", "USER", { scopeId: "u2", rules: [rule("no", "*", "DENY")] }),
      policy("a2", "AGENT", { scopeId: "a2", rules: [rule("no", "*", "DENY")] }),
    ],
    outcome: "ALLOWED",
    rule: "g:all",
  },
  // Rule 2: locked rules
  {
    name: "locked DENY at GLOBAL beats AGENT ALLOW",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "payments.*", "DENY", { locked: true })] }), policy("a", "AGENT", { rules: [rule("ok", "payments.transfer", "ALLOW")] })],
    action: "payments.transfer",
    outcome: "DENIED",
    rule: "g:lock",
    reasons: ["RULE_DENY"],
  },
  {
    name: "locked DENY * beats a more specific pattern of a narrower scope",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "*", "DENY", { locked: true })] }), policy("r", "ROLE", { rules: [rule("ok", "llm.completion", "ALLOW")] })],
    outcome: "DENIED",
    rule: "g:lock",
  },
  {
    name: "locked REQUIRE_APPROVAL at GLOBAL holds an AGENT ALLOW",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "payments.*", "REQUIRE_APPROVAL", { locked: true })] }), policy("a", "AGENT", { rules: [rule("ok", "*", "ALLOW")] })],
    action: "payments.transfer",
    outcome: "PENDING_APPROVAL",
    rule: "g:lock",
  },
  {
    name: "a locked rule is a floor, not a ceiling: AGENT DENY still denies",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "*", "REQUIRE_APPROVAL", { locked: true })] }), policy("a", "AGENT", { rules: [rule("no", "llm.*", "DENY")] })],
    outcome: "DENIED",
    rule: "a:no",
  },
  {
    name: "max cost of a matching locked rule applies under a narrower ALLOW",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "llm.*", "ALLOW", { locked: true, maxCostPerAction: u(2) })] }), policy("a", "AGENT", { rules: [rule("ok", "*", "ALLOW")] })],
    cost: u(3),
    outcome: "DENIED",
    rule: "a:ok",
    reasons: ["COST_OVER_RULE_MAX"],
  },
  {
    name: "locked max cost: equal cost fits",
    chain: [policy("g", "GLOBAL", { rules: [rule("lock", "llm.*", "ALLOW", { locked: true, maxCostPerAction: u(2) })] }), policy("a", "AGENT", { rules: [rule("ok", "*", "ALLOW")] })],
    cost: u(2),
    outcome: "ALLOWED",
    rule: "a:ok",
  },
  {
    name: "max cost of the deciding rule: one micro-unit over is denied",
    chain: [policy("a", "AGENT", { rules: [rule("ok", "llm.*", "ALLOW", { maxCostPerAction: u(1) })] })],
    cost: u(1) + 1n,
    outcome: "DENIED",
    rule: "a:ok",
    reasons: ["COST_OVER_RULE_MAX"],
  },
  // Rule 3: spend caps
  {
    name: "AGENT-scope DAY cap replaces the GLOBAL-scope DAY cap; the GLOBAL HOUR cap still applies",
    chain: [allowAll([cap("day", "AGENT", "DAY", u(10)), cap("hour", "AGENT", "HOUR", u(5))]), policy("a", "AGENT", { caps: [cap("day", "AGENT", "DAY", u(100))] })],
    spend: [["AGENT", "DAY", u(50)], ["AGENT", "HOUR", u(4)]],
    outcome: "ALLOWED",
    caps: [["g:hour", true], ["a:day", true]],
  },
  {
    name: "the GLOBAL HOUR cap denies although the AGENT DAY cap has room",
    chain: [allowAll([cap("hour", "AGENT", "HOUR", u(5))]), policy("a", "AGENT", { caps: [cap("day", "AGENT", "DAY", u(100))] })],
    spend: [["AGENT", "HOUR", u(5)]],
    outcome: "DENIED",
    reasons: ["CAP_EXCEEDED"],
    caps: [["g:hour", false], ["a:day", true]],
  },
  {
    name: "a cap per OWNER is not replaced by a cap per AGENT",
    chain: [allowAll([cap("own", "OWNER", "DAY", u(10))]), policy("a", "AGENT", { caps: [cap("day", "AGENT", "DAY", u(100))] })],
    spend: [["OWNER", "DAY", u(10)]],
    outcome: "DENIED",
    caps: [["a:day", true], ["g:own", false]],
  },
  {
    name: "a locked cap applies despite a narrower replacement",
    chain: [allowAll([cap("day", "AGENT", "DAY", u(10), true)]), policy("a", "AGENT", { caps: [cap("day", "AGENT", "DAY", u(100))] })],
    spend: [["AGENT", "DAY", u(9)]],
    cost: u(2),
    outcome: "DENIED",
    reasons: ["CAP_EXCEEDED"],
    caps: [["g:day", false], ["a:day", true]],
  },
  {
    name: "several failing limits are named together",
    chain: [
      policy("g", "GLOBAL", { rules: [rule("all", "*", "ALLOW", { maxCostPerAction: u(1) })], caps: [cap("glob", "GLOBAL", "MONTH", u(3)), cap("own", "OWNER", "WEEK", u(2))] }),
    ],
    cost: u(3),
    spend: [["GLOBAL", "MONTH", 1n]],
    outcome: "DENIED",
    reasons: ["COST_OVER_RULE_MAX", "CAP_EXCEEDED", "CAP_EXCEEDED"],
    caps: [["g:own", false], ["g:glob", false]],
  },
  {
    name: "boundary: spent + cost == limit fits",
    chain: [allowAll([cap("day", "AGENT", "DAY", u(10))])],
    spend: [["AGENT", "DAY", u(7)]],
    cost: u(3),
    outcome: "ALLOWED",
    caps: [["g:day", true]],
  },
  {
    name: "boundary: one micro-unit more does not fit",
    chain: [allowAll([cap("day", "AGENT", "DAY", u(10))])],
    spend: [["AGENT", "DAY", u(7)]],
    cost: u(3) + 1n,
    outcome: "DENIED",
    reasons: ["CAP_EXCEEDED"],
    caps: [["g:day", false]],
  },
  { name: "zero cost is allowed", chain: [allowAll([cap("day", "AGENT", "DAY", u(10))])], spend: [["AGENT", "DAY", u(10)]], cost: 0n, outcome: "ALLOWED" },
  {
    name: "zero cost on an overspent cap is denied (no room left at all)",
    chain: [allowAll([cap("day", "AGENT", "DAY", u(10))])],
    spend: [["AGENT", "DAY", u(11)]],
    cost: 0n,
    outcome: "DENIED",
    reasons: ["CAP_EXCEEDED"],
  },
  { name: "negative cost", chain: [allowAll()], cost: -1n, outcome: "DENIED", rule: null, reasons: ["INVALID_COST"], caps: [] },
  { name: "invalid action name", chain: [allowAll()], action: "LLM.Completion", outcome: "DENIED", rule: null, reasons: ["INVALID_ACTION"] },
  {
    name: "a held action must fit its caps too",
    chain: [policy("g", "GLOBAL", { rules: [rule("ask", "*", "REQUIRE_APPROVAL")], caps: [cap("day", "AGENT", "DAY", u(1))] })],
    cost: u(2),
    outcome: "DENIED",
    rule: "g:ask",
    reasons: ["CAP_EXCEEDED"],
  },
  {
    name: "a DENY rule reports the caps but does not name them",
    chain: [policy("g", "GLOBAL", { rules: [rule("no", "*", "DENY")], caps: [cap("day", "AGENT", "DAY", u(1))] })],
    cost: u(2),
    outcome: "DENIED",
    reasons: ["RULE_DENY"],
    caps: [["g:day", false]],
  },
  // SHADOW policies
  {
    name: "a shadow DENY changes the would-be decision only",
    chain: [allowAll(), policy("a", "AGENT", { mode: "SHADOW", rules: [rule("no", "llm.*", "DENY")] })],
    outcome: "ALLOWED",
    rule: "g:all",
    wouldBe: "DENIED",
  },
  {
    name: "a shadow cap changes the would-be decision only",
    chain: [allowAll(), policy("s", "GLOBAL", { mode: "SHADOW", caps: [cap("tight", "AGENT", "DAY", u(1))] })],
    cost: u(2),
    outcome: "ALLOWED",
    caps: [],
    wouldBe: "DENIED",
  },
  {
    name: "a shadow ALLOW does not allow",
    chain: [policy("a", "AGENT", { mode: "SHADOW", rules: [rule("ok", "*", "ALLOW")] })],
    outcome: "DENIED",
    reasons: ["NO_MATCHING_RULE"],
    wouldBe: "ALLOWED",
  },
  { name: "a disabled shadow policy gives no would-be", chain: [allowAll(), policy("a", "AGENT", { mode: "SHADOW", enabled: false })], outcome: "ALLOWED", wouldBe: null },
];

describe("evaluate: decision table", () => {
  it.each(cases)("$name", (c) => {
    const decision = evaluate(c.chain, request(c.action ?? "llm.completion", c.cost ?? u(1)), spendView(NOW, c.spend ?? []), NOW);
    expect(decision.outcome).toBe(c.outcome);
    const deciding = decision.decidingRule;
    if (c.rule !== undefined) expect(deciding === null ? null : `${deciding.policyId}:${deciding.ruleId}`).toBe(c.rule);
    if (c.reasons !== undefined) expect(decision.reasons.map((r) => r.code)).toEqual(c.reasons);
    if (c.caps !== undefined) expect(decision.caps.map((k) => [`${k.policyId}:${k.capId}`, k.fits])).toEqual(c.caps);
    expect(decision.wouldBe?.outcome ?? null).toBe(c.wouldBe ?? null);
    for (const reason of decision.reasons) expect(reason.message.length).toBeGreaterThan(20);
  });
});
