/** Details of a decision beyond its outcome: reservations, messages, ordering, replay. */
import { describe, expect, it } from "vitest";
import { counterKeys, evaluate, replay } from "../../src/policy/evaluator";
import { allowAll, cap, NOW, policy, request, rule, spendView, u } from "../support/policy-builders";

describe("evaluate: details", () => {
  const capped = [allowAll([cap("day", "AGENT", "DAY", u(10))]), policy("a", "AGENT", { caps: [cap("day", "AGENT", "DAY", u(10), true)] })];

  it("an ALLOWED decision reserves the cost on every cap; shared counters are charged once", () => {
    const decision = evaluate(capped, request("llm.completion", u(3)), spendView(NOW, [["AGENT", "DAY", u(2)]]), NOW);
    expect(decision.caps.map((c) => [c.spentBefore, c.spentAfter])).toEqual([[u(2), u(5)]]);
    expect(counterKeys(decision)).toEqual(["AGENT/DAY/2024-03-13T00:00:00.000Z/a1"]);
  });

  it("a held action reserves nothing: spentAfter = spentBefore", () => {
    const chain = [policy("g", "GLOBAL", { rules: [rule("ask", "*", "REQUIRE_APPROVAL")], caps: [cap("day", "AGENT", "DAY", u(10))] })];
    const decision = evaluate(chain, request("llm.completion", u(3)), spendView(NOW, [["AGENT", "DAY", u(2)]]), NOW);
    expect(decision.outcome).toBe("PENDING_APPROVAL");
    expect(decision.caps[0]).toMatchObject({ spentBefore: u(2), spentAfter: u(2), fits: true });
  });

  it("spend of the previous window does not count", () => {
    const midnight = new Date("2024-03-13T00:00:00.000Z");
    const yesterday = spendView(new Date("2024-03-12T23:59:59.999Z"), [["AGENT", "DAY", u(10)]]);
    expect(evaluate(capped, request("llm.completion", u(10)), yesterday, midnight).outcome).toBe("ALLOWED");
  });

  it("a cap reason names the cap, policy, counter, window, limit, spend and cost", () => {
    const chain = [allowAll([cap("day", "AGENT", "DAY", u(10), true)])];
    const [reason] = evaluate(chain, request("llm.completion", u(2)), spendView(NOW, [["AGENT", "DAY", u(9)]]), NOW).reasons;
    expect(reason?.message).toBe(
      "Estimated cost 2.000000 does not fit locked spend cap 'day' (per AGENT a1, DAY window " +
        "2024-03-13T00:00:00.000Z to 2024-03-14T00:00:00.000Z, limit 10.000000) of GLOBAL policy 'g policy' v1: " +
        "already spent 9.000000, would reach 11.000000, over the limit by 1.000000.",
    );
  });

  it("a locked rule's reason names the rule it overrides", () => {
    const chain = [policy("g", "GLOBAL", { rules: [rule("lock", "payments.*", "DENY", { locked: true })] }), policy("a", "AGENT", { scopeId: "a1", rules: [rule("ok", "*", "ALLOW")] })];
    const [reason] = evaluate(chain, request("payments.transfer", u(1)), new Map(), NOW).reasons;
    expect(reason?.overrides?.ruleId).toBe("ok");
    expect(reason?.message).toBe(
      "Action 'payments.transfer' is denied by locked rule 'lock' (DENY payments.*) of GLOBAL policy 'g policy' v1; " +
        "the rule is locked, so it applies over rule 'ok' (ALLOW *) of AGENT a1 policy 'a policy' v1, which would have decided ALLOW.",
    );
  });

  it("reports the considered policies, broadest scope first, whatever the input order", () => {
    const chain = [policy("a", "AGENT"), policy("u", "USER"), policy("r", "ROLE"), allowAll(), policy("x", "AGENT", { enabled: false })];
    expect(evaluate(chain, request("llm.completion", 0n), new Map(), NOW).policies.map((p) => `${p.scope}:${p.id}`)).toEqual([
      "GLOBAL:g",
      "ROLE:r",
      "USER:u",
      "AGENT:a",
    ]);
  });

  it("is deterministic and replay gives a deep-equal decision", () => {
    const spend = spendView(NOW, [["AGENT", "DAY", u(9)]]);
    const first = evaluate(capped, request("llm.completion", u(2)), spend, NOW);
    expect(evaluate(capped, request("llm.completion", u(2)), spend, NOW)).toEqual(first);
    expect(replay(capped, request("llm.completion", u(2)), spend, new Date(NOW.getTime()))).toEqual(first);
  });

  it("throws on an invalid now (a caller's bug, not a decision)", () => {
    expect(() => evaluate([], request("llm.completion", 0n), new Map(), new Date(Number.NaN))).toThrow(RangeError);
  });
});
