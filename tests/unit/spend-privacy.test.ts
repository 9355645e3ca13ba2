import { describe, expect, it } from "vitest";
import { publicReasons } from "../../src/actions/decision-record";
import { FULL_SIGHT, redactCap, redactReason, redactReasons, spendSight } from "../../src/actions/spend-privacy";
import type { Principal } from "../../src/auth/principal";
import { evaluate } from "../../src/policy/evaluator";
import { allowAll, cap, NOW, policy, request, rule, spendView, u } from "../support/policy-builders";

/**
 * The one rule of spend privacy: a GLOBAL counter's figures (limit, spend, room) reach only
 * viewers with spend:read; everything else passes unchanged.
 */
const person = (...permissions: string[]) => ({ kind: "user", user: { permissions: new Set(permissions) } as unknown as Principal }) as const;
const HIDDEN = spendSight(person("actions:approve", "agents:read"));

/** A denial by every kind of cap at once: AGENT, OWNER and GLOBAL all without room. */
function deniedByEveryCap() {
  const chain = [
    allowAll([cap("platform", "GLOBAL", "DAY", u(100))]),
    policy("u", "USER", { caps: [cap("team", "OWNER", "DAY", u(50))] }),
    policy("a", "AGENT", { rules: [rule("llm", "llm.*", "ALLOW", { maxCostPerAction: u(5) })], caps: [cap("mine", "AGENT", "DAY", u(10))] }),
  ];
  const spend = spendView(NOW, [
    ["AGENT", "DAY", u(9)],
    ["OWNER", "DAY", u(49)],
    ["GLOBAL", "DAY", u(97)],
  ]);
  return evaluate(chain, request("llm.chat", u(6)), spend, NOW);
}

describe("spend sight", () => {
  it("is granted by spend:read only, never to an agent", () => {
    expect(spendSight(person("spend:read")).platform).toBe(true);
    expect(HIDDEN.platform).toBe(false);
    expect(spendSight({ kind: "agent" }).platform).toBe(false);
  });
});

describe("redacting reasons", () => {
  const decision = deniedByEveryCap();
  const reasons = publicReasons(decision);

  it("drops a GLOBAL cap's limit and spend and rewords its message without any figure but the cost", () => {
    const platform = reasons.find((reason) => reason.per === "GLOBAL")!;
    expect(platform).toMatchObject({ limit: u(100).toString(), spent: u(97).toString() });
    const shown = redactReason(platform, HIDDEN);
    expect(shown).not.toHaveProperty("limit");
    expect(shown).not.toHaveProperty("spent");
    expect(shown).toMatchObject({ code: "CAP_EXCEEDED", per: "GLOBAL", capId: "platform", window: "DAY", cost: u(6).toString() });
    expect(shown.message).toContain("the platform-wide cap is reached");
    expect(shown.message).toContain("6.000000");
    for (const figure of ["100.000000", "97.000000", "103.000000", "3.000000"]) expect(shown.message).not.toContain(figure);
  });

  it("leaves AGENT and OWNER caps, rules, and everything for a viewer with spend:read unchanged", () => {
    const shown = redactReasons(reasons, HIDDEN);
    expect(shown.filter((reason) => reason.per !== "GLOBAL")).toEqual(reasons.filter((reason) => reason.per !== "GLOBAL"));
    expect(shown.map((reason) => reason.code).sort()).toEqual(["CAP_EXCEEDED", "CAP_EXCEEDED", "CAP_EXCEEDED", "COST_OVER_RULE_MAX"]);
    expect(redactReasons(reasons, spendSight(person("spend:read")))).toEqual(reasons);
    expect(redactReasons(reasons, FULL_SIGHT)).toEqual(reasons);
  });

  it("never mutates the stored reasons", () => {
    const before = JSON.stringify(reasons);
    redactReasons(reasons, HIDDEN);
    expect(JSON.stringify(reasons)).toBe(before);
  });
});

describe("redacting checked caps", () => {
  it("nulls a GLOBAL cap's limit, spend and room, keeping whether it fits", () => {
    const caps = deniedByEveryCap().caps.map((checked) => ({ ...checked, remaining: 0n as bigint | null }));
    const shown = caps.map((checked) => redactCap(checked, HIDDEN));
    expect(shown.find((checked) => checked.per === "GLOBAL")).toMatchObject({ limit: null, spentBefore: null, spentAfter: null, remaining: null, fits: false });
    expect(shown.filter((checked) => checked.per !== "GLOBAL")).toEqual(caps.filter((checked) => checked.per !== "GLOBAL"));
    expect(caps.map((checked) => redactCap(checked, FULL_SIGHT))).toEqual(caps);
  });
});
