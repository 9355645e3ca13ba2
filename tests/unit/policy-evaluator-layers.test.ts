import { describe, expect, it } from "vitest";
import { checkDecision, type DecisionCase } from "../support/decision-table";
import { effectivePolicy } from "../../src/policy/effective-policy";
import { evaluate, prepareChain } from "../../src/policy/evaluator";
import { allowAll, cap, NOW, policy, request, restriction, rule, u } from "../support/policy-builders";

/**
 * Restriction layers (policies written by an agent's owner without policies:write) and lock
 * carve-outs (a locked rule binds narrower scopes only; inside its scope the most specific
 * pattern decides), as decision tables.
 */

const adminCap = (limit: number) => allowAll([cap("day", "AGENT", "DAY", u(limit))]);

const layerCases: DecisionCase[] = [
  {
    name: "a layer's ALLOW does not lift the chain's DENY (the default deny included)",
    chain: [policy("g", "GLOBAL", { rules: [rule("no", "payments.*", "DENY")] }), restriction("o", { rules: [rule("ok", "payments.transfer", "ALLOW")] })],
    action: "payments.transfer",
    outcome: "DENIED",
    rule: "g:no",
    reasons: ["RULE_DENY"],
  },
  {
    name: "no rule of the chain matches: default deny, whatever a layer allows",
    chain: [restriction("o", { rules: [rule("ok", "*", "ALLOW")] })],
    outcome: "DENIED",
    rule: null,
    reasons: ["NO_MATCHING_RULE"],
  },
  {
    name: "a layer's DENY denies what the chain allows",
    chain: [allowAll(), restriction("o", { rules: [rule("no", "llm.*", "DENY")] })],
    outcome: "DENIED",
    rule: "o:no",
    reasons: ["RULE_DENY"],
  },
  {
    name: "a layer's REQUIRE_APPROVAL holds what the chain allows",
    chain: [allowAll(), restriction("o", { rules: [rule("ask", "llm.completion", "REQUIRE_APPROVAL")] })],
    outcome: "PENDING_APPROVAL",
    rule: "o:ask",
    reasons: ["RULE_REQUIRE_APPROVAL"],
  },
  {
    name: "a layer's ALLOW does not release the chain's REQUIRE_APPROVAL",
    chain: [policy("g", "GLOBAL", { rules: [rule("ask", "*", "REQUIRE_APPROVAL")] }), restriction("o", { rules: [rule("ok", "llm.*", "ALLOW")] })],
    outcome: "PENDING_APPROVAL",
    rule: "g:ask",
  },
  {
    name: "a layer's ALLOW over a later, more specific DENY of the chain: the DENY decides",
    chain: [
      policy("g", "GLOBAL", { rules: [rule("llm", "llm.*", "ALLOW"), rule("no", "llm.finetune", "DENY")] }),
      restriction("o", { rules: [rule("ok", "llm.*", "ALLOW", { maxCostPerAction: u(2) })] }),
    ],
    action: "llm.finetune",
    outcome: "DENIED",
    rule: "g:no",
  },
  {
    name: "a layer with no matching rule adds no restriction",
    chain: [allowAll(), restriction("o", { rules: [rule("no", "email.*", "DENY")] })],
    outcome: "ALLOWED",
    rule: "g:all",
  },
  {
    name: "a layer rule's max cost per action restricts",
    chain: [allowAll(), restriction("o", { rules: [rule("ok", "llm.*", "ALLOW", { maxCostPerAction: u(2) })] })],
    cost: u(3),
    outcome: "DENIED",
    reasons: ["COST_OVER_RULE_MAX"],
  },
  {
    name: "an override AGENT ALLOW (policies:write) still lifts a GLOBAL DENY",
    chain: [policy("g", "GLOBAL", { rules: [rule("no", "payments.*", "DENY")] }), policy("a", "AGENT", { rules: [rule("ok", "payments.transfer", "ALLOW")] })],
    action: "payments.transfer",
    outcome: "ALLOWED",
    rule: "a:ok",
  },
  {
    name: "two layers: the second's ALLOW does not carve into the first's DENY",
    chain: [allowAll(), restriction("o1", { rules: [rule("no", "llm.*", "DENY")] }), restriction("o2", { rules: [rule("ok", "llm.completion", "ALLOW")] })],
    outcome: "DENIED",
    rule: "o1:no",
  },
  {
    name: "a layer's cap applies in addition: a higher one does not replace the chain's",
    chain: [adminCap(5), restriction("o", { caps: [cap("day", "AGENT", "DAY", u(1000))] })],
    cost: u(10),
    outcome: "DENIED",
    reasons: ["CAP_EXCEEDED"],
    caps: [["g:day", false], ["o:day", true]],
  },
  {
    name: "a layer's lower cap binds too",
    chain: [adminCap(100), restriction("o", { caps: [cap("day", "AGENT", "DAY", u(50))] })],
    spend: [["AGENT", "DAY", u(45)]],
    cost: u(10),
    outcome: "DENIED",
    caps: [["g:day", true], ["o:day", false]],
  },
  {
    name: "the chain's cap lowered below the layer's binds at once",
    chain: [adminCap(5), restriction("o", { caps: [cap("day", "AGENT", "DAY", u(50))] })],
    cost: u(10),
    outcome: "DENIED",
    caps: [["g:day", false], ["o:day", true]],
  },
  {
    name: "a layer's caps of other counters add to the chain's",
    chain: [adminCap(100), restriction("o", { caps: [cap("hour", "AGENT", "HOUR", u(2))] })],
    cost: u(3),
    outcome: "DENIED",
    caps: [["o:hour", false], ["g:day", true]],
  },
  {
    name: "a layer decides nothing for a policy of the owner's other agent",
    chain: [allowAll(), restriction("o", { scopeId: "a2", rules: [rule("no", "*", "DENY")] })],
    outcome: "ALLOWED",
    rule: "g:all",
  },
];

const lockCases: DecisionCase[] = [
  {
    name: "deny the family except X: a same-scope exception wins for its more specific pattern",
    chain: [policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW")] })],
    action: "llm.chat",
    outcome: "ALLOWED",
    rule: "g:x",
  },
  {
    name: "the locked family DENY still holds the rest of the family",
    chain: [policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW")] })],
    action: "llm.completion",
    outcome: "DENIED",
    rule: "g:fam",
  },
  {
    name: "a locked exception works as well",
    chain: [policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW", { locked: true })] })],
    action: "llm.chat",
    outcome: "ALLOWED",
    rule: "g:x",
  },
  {
    name: "the exception may sit in another policy of the same scope",
    chain: [policy("g1", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true })] }), policy("g2", "GLOBAL", { rules: [rule("x", "llm.chat", "ALLOW")] })],
    action: "llm.chat",
    outcome: "ALLOWED",
    rule: "g2:x",
  },
  {
    name: "a narrower scope cannot override the locked family DENY",
    chain: [
      policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW")] }),
      policy("a", "AGENT", { rules: [rule("ok", "llm.*", "ALLOW")] }),
    ],
    action: "llm.completion",
    outcome: "DENIED",
    rule: "g:fam",
  },
  {
    name: "a narrower scope's exact ALLOW is no carve-out either",
    chain: [policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true })] }), policy("u", "USER", { rules: [rule("ok", "llm.completion", "ALLOW")] })],
    outcome: "DENIED",
    rule: "g:fam",
  },
  {
    name: "a narrower scope may still restrict the exception",
    chain: [
      policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW", { locked: true })] }),
      policy("a", "AGENT", { rules: [rule("no", "llm.chat", "DENY")] }),
    ],
    action: "llm.chat",
    outcome: "DENIED",
    rule: "a:no",
  },
  {
    name: "a locked exception's max cost binds narrower scopes",
    chain: [
      policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW", { locked: true, maxCostPerAction: u(1) })] }),
      policy("a", "AGENT", { rules: [rule("ok", "llm.chat", "ALLOW")] }),
    ],
    action: "llm.chat",
    cost: u(2),
    outcome: "DENIED",
    reasons: ["COST_OVER_RULE_MAX"],
  },
];


describe("evaluate: restriction layers", () => {
  it.each(layerCases)("$name", checkDecision);

  it("names the layer and what the chain would have said when a layer decides", () => {
    const decision = evaluate([allowAll(), restriction("o", { rules: [rule("no", "llm.*", "DENY")] })], request("llm.completion", u(1)), new Map(), NOW);
    const [reason] = decision.reasons;
    expect(reason?.rule?.authority).toBe("RESTRICTION");
    expect(reason?.overrides).toMatchObject({ policyId: "g", ruleId: "all", authority: "OVERRIDE" });
    expect(reason?.message).toMatch(/restriction layer written by the agent's owner.*stricter than the chain above it.*ALLOW/);
    expect(decision.policies.map((ref) => `${ref.id}:${ref.authority}`)).toEqual(["g:OVERRIDE", "o:RESTRICTION"]);
  });

  it("a prepared chain decides exactly as the plain one, and is prepared again for another target", () => {
    const chain = [adminCap(5), restriction("o", { rules: [rule("no", "llm.embed", "DENY")], caps: [cap("hour", "AGENT", "HOUR", u(2))] })];
    const prepared = prepareChain(chain, request("x", 0n));
    for (const action of ["llm.embed", "llm.chat"]) {
      for (const req of [request(action, u(1)), request(action, u(3)), request(action, u(1), { agentId: "a2" })]) {
        expect(evaluate(prepared, req, new Map(), NOW)).toEqual(evaluate(chain, req, new Map(), NOW));
      }
    }
  });

  it("effectivePolicy shows the layer that decides and its caps beside the chain's", () => {
    const view = effectivePolicy([allowAll([cap("day", "AGENT", "DAY", u(5))]), restriction("o", { rules: [rule("no", "llm.*", "DENY")], caps: [cap("day", "AGENT", "DAY", u(1000))] })]);
    const llm = view.rules.find((entry) => entry.pattern === "llm.*");
    expect(llm).toMatchObject({ effect: "DENY", restricted: true, decidingRule: { policyId: "o", authority: "RESTRICTION" } });
    const all = view.rules.find((entry) => entry.pattern === "*");
    expect(all).toMatchObject({ effect: "ALLOW", restricted: false });
    const [day] = view.caps;
    expect(day?.applied.map((c) => `${c.policyId}:${c.authority}`)).toEqual(["g:OVERRIDE", "o:RESTRICTION"]);
    expect(day?.overridden).toEqual([]);
  });
});

describe("evaluate: locks bind narrower scopes only", () => {
  it.each(lockCases)("$name", checkDecision);

  it("effectivePolicy shows the carve-out: the exception decides, the locked family rule is overridden for it", () => {
    const view = effectivePolicy([policy("g", "GLOBAL", { rules: [rule("fam", "llm.*", "DENY", { locked: true }), rule("x", "llm.chat", "ALLOW")] })]);
    expect(view.rules.map((entry) => [entry.pattern, entry.effect, entry.decidingRule?.ruleId])).toEqual([
      ["llm.chat", "ALLOW", "x"],
      ["llm.*", "DENY", "fam"],
    ]);
  });
});
