/** Details of a decision beyond its outcome: reservations, messages, ordering, replay. */
import { describe, expect, it } from "vitest";
import { counterKeys, evaluate, replay } from "../../src/policy/evaluator";
import {
  capKey,
  serializeCapKey,
  type ActionRequest,
  type ActionRule,
  type CapCounter,
  type CapWindow,
  type Money,
  type Policy,
  type PolicyMode,
  type PolicyScope,
  type RuleEffect,
  type SpendCap,
  type SpendView,
} from "../../src/policy/policy-types";

/** Whole currency units as micro-units. */
const u = (units: number): Money => BigInt(units) * 1_000_000n;
const NOW = new Date("2024-03-13T10:30:00.000Z"); // a Wednesday

function rule(id: string, pattern: string, effect: RuleEffect, extra: Partial<ActionRule> = {}): ActionRule {
  return { id, pattern, effect, locked: false, ...extra };
}
function cap(id: string, per: CapCounter, window: CapWindow, limit: Money, locked = false): SpendCap {
  return { id, per, window, limit, locked };
}
const DEFAULT_SCOPE_ID: Record<PolicyScope, string | null> = { GLOBAL: null, ROLE: "MANAGER", USER: "u1", AGENT: "a1" };
interface PolicyParts {
  rules?: ActionRule[];
  caps?: SpendCap[];
  scopeId?: string | null;
  enabled?: boolean;
  mode?: PolicyMode;
}
function policy(id: string, scope: PolicyScope, parts: PolicyParts = {}): Policy {
  return {
    id,
    version: 1,
    name: `${id} policy`,
    scope,
    scopeId: parts.scopeId === undefined ? DEFAULT_SCOPE_ID[scope] : parts.scopeId,
    enabled: parts.enabled ?? true,
    mode: parts.mode ?? "ENFORCE",
    rules: parts.rules ?? [],
    caps: parts.caps ?? [],
  };
}
function request(action: string, estimatedCost: Money, extra: Partial<ActionRequest> = {}): ActionRequest {
  return { agentId: "a1", ownerId: "u1", ownerRoles: ["USER", "MANAGER"], action, estimatedCost, ...extra };
}
function spendView(now: Date, entries: [CapCounter, CapWindow, Money][]): SpendView {
  const req = request("x", 0n);
  return new Map(entries.map(([per, window, amount]) => [serializeCapKey(capKey({ per, window }, req, now)), amount]));
}
const allowAll = (caps: SpendCap[] = []) => policy("g", "GLOBAL", { rules: [rule("all", "*", "ALLOW")], caps });

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
