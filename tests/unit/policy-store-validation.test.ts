import { describe, expect, it } from "vitest";
import { UserInputError } from "../../src/errors/errors";
import { fromSnapshot, toSnapshot, type PolicyRecord } from "../../src/policies/policy-codec";
import {
  checkPolicyDraft,
  MAX_CAPS,
  MAX_MONEY,
  MAX_RULES,
  withCapIds,
  withRuleIds,
  type PolicyDraft,
} from "../../src/policies/policy-validation";

const AGENT_ID = "5b0c0b5e-6a3b-4c1e-9a51-0c6f1c2d3e4f";
const base: PolicyDraft = { name: "Base", scope: "GLOBAL" };

/** The field a draft is refused on (and that it is refused as bad input). */
function refusedField(draft: PolicyDraft): string {
  try {
    checkPolicyDraft(draft);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return (error as UserInputError).field;
  }
  throw new Error("expected a refusal");
}

describe("checkPolicyDraft", () => {
  it("accepts a full policy, trimming the name and defaulting locked to false", () => {
    const content = checkPolicyDraft({
      name: "  Agent limits ",
      scope: "AGENT",
      scopeId: AGENT_ID.toUpperCase(),
      mode: "SHADOW",
      rules: [{ pattern: "llm.*", effect: "ALLOW", maxCostPerAction: 0n }, { pattern: "*", effect: "DENY", locked: true }],
      caps: [{ per: "OWNER", window: "DAY", limit: MAX_MONEY }],
    });
    expect(content).toEqual({
      name: "Agent limits",
      scope: "AGENT",
      scopeId: AGENT_ID,
      enabled: null,
      mode: "SHADOW",
      rules: [
        { pattern: "llm.*", effect: "ALLOW", maxCostPerAction: 0n, locked: false },
        { pattern: "*", effect: "DENY", locked: true },
      ],
      caps: [{ per: "OWNER", window: "DAY", limit: MAX_MONEY, locked: false }],
    });
    expect(checkPolicyDraft(base)).toMatchObject({ rules: null, caps: null, mode: null, scopeId: null });
  });

  it.each<[string, PolicyDraft, string]>([
    ["an empty name", { ...base, name: "   " }, "name"],
    ["a name over 100 characters", { ...base, name: "n".repeat(101) }, "name"],
    ["an unknown scope", { ...base, scope: "TEAM" }, "scope"],
    ["a scopeId on GLOBAL", { ...base, scopeId: "ADMIN" }, "scopeId"],
    ["no scopeId on ROLE", { ...base, scope: "ROLE" }, "scopeId"],
    ["a malformed role name", { ...base, scope: "ROLE", scopeId: "admins!" }, "scopeId"],
    ["a malformed user id", { ...base, scope: "USER", scopeId: "bob" }, "scopeId"],
    ["no scopeId on AGENT", { ...base, scope: "AGENT", scopeId: "" }, "scopeId"],
    ["an unknown mode", { ...base, mode: "AUDIT" }, "mode"],
    ["a bad pattern", { ...base, rules: [{ pattern: "llm.*", effect: "ALLOW" }, { pattern: "llm*", effect: "DENY" }] }, "rules[1].pattern"],
    ["an empty pattern", { ...base, rules: [{ pattern: "", effect: "DENY" }] }, "rules[0].pattern"],
    ["a repeated pattern", { ...base, rules: [{ pattern: "a.b", effect: "DENY" }, { pattern: "a.b", effect: "ALLOW" }] }, "rules[1].pattern"],
    ["an unknown effect", { ...base, rules: [{ pattern: "a", effect: "MAYBE" }] }, "rules[0].effect"],
    ["a negative max cost", { ...base, rules: [{ pattern: "a", effect: "ALLOW", maxCostPerAction: -1n }] }, "rules[0].maxCostPerAction"],
    ["a max cost over 2^63-1", { ...base, rules: [{ pattern: "a", effect: "ALLOW", maxCostPerAction: MAX_MONEY + 1n }] }, "rules[0].maxCostPerAction"],
    ["a negative limit", { ...base, caps: [{ per: "AGENT", window: "DAY", limit: -1n }] }, "caps[0].limit"],
    ["an unknown window", { ...base, caps: [{ per: "AGENT", window: "YEAR", limit: 1n }] }, "caps[0].window"],
    ["an unknown counter", { ...base, caps: [{ per: "TEAM", window: "DAY", limit: 1n }] }, "caps[0].per"],
    [
      "a GLOBAL cap outside GLOBAL scope",
      { name: "x", scope: "AGENT", scopeId: AGENT_ID, caps: [{ per: "AGENT", window: "DAY", limit: 1n }, { per: "GLOBAL", window: "DAY", limit: 1n }] },
      "caps[1].per",
    ],
    [
      "a repeated (per, window)",
      { ...base, caps: [{ per: "AGENT", window: "DAY", limit: 5n }, { per: "AGENT", window: "DAY", limit: 1n }] },
      "caps[1].window",
    ],
    ["too many rules", { ...base, rules: Array.from({ length: MAX_RULES + 1 }, (_, i) => ({ pattern: `a${i}`, effect: "DENY" })) }, "rules"],
    ["too many caps", { ...base, caps: Array.from({ length: MAX_CAPS + 1 }, () => ({ per: "AGENT", window: "DAY", limit: 1n })) }, "caps"],
  ])("refuses %s", (_, draft, field) => {
    expect(refusedField(draft)).toBe(field);
  });

  it("accepts the limits exactly: 200 rules, 50 caps, a 100-character name, a GLOBAL cap in GLOBAL scope, OWNER caps at AGENT scope", () => {
    const windows = ["HOUR", "DAY", "WEEK", "MONTH", "TOTAL"];
    const caps = ["AGENT", "OWNER", "GLOBAL"].flatMap((per) => windows.map((window) => ({ per, window, limit: 1n })));
    expect(checkPolicyDraft({ ...base, name: "n".repeat(100), caps }).caps).toHaveLength(15);
    const rules = Array.from({ length: MAX_RULES }, (_, i) => ({ pattern: `a${i}.*`, effect: "DENY" }));
    expect(checkPolicyDraft({ ...base, rules }).rules).toHaveLength(MAX_RULES);
    const owner = checkPolicyDraft({ name: "o", scope: "AGENT", scopeId: AGENT_ID, caps: [{ per: "OWNER", window: "MONTH", limit: 9n }] });
    expect(owner.caps).toEqual([{ per: "OWNER", window: "MONTH", limit: 9n, locked: false }]);
  });
});

describe("rule and cap ids across versions", () => {
  let counter = 0;
  const newId = () => `new-${++counter}`;

  it("keeps the id of a rule with the same pattern (even edited), gives new patterns new ids", () => {
    const previous = [
      { id: "r1", pattern: "llm.*", effect: "ALLOW" as const, locked: false },
      { id: "r2", pattern: "email.send", effect: "DENY" as const, locked: false },
    ];
    const next = withRuleIds(
      previous,
      [
        { pattern: "email.send", effect: "REQUIRE_APPROVAL", locked: false },
        { pattern: "payments.*", effect: "DENY", locked: true },
      ],
      newId,
    );
    expect(next.map((rule) => [rule.id, rule.pattern, rule.effect])).toEqual([
      ["r2", "email.send", "REQUIRE_APPROVAL"],
      ["new-1", "payments.*", "DENY"],
    ]);
  });

  it("keeps the id of a cap with the same (per, window)", () => {
    const previous = [{ id: "c1", per: "AGENT" as const, window: "DAY" as const, limit: 5n, locked: false }];
    const next = withCapIds(
      previous,
      [
        { per: "AGENT", window: "DAY", limit: 7n, locked: false },
        { per: "AGENT", window: "HOUR", limit: 1n, locked: false },
      ],
      newId,
    );
    expect(next.map((cap) => cap.id)).toEqual(["c1", "new-2"]);
  });
});

describe("snapshots", () => {
  it("round-trip a policy with exact money, including amounts beyond 2^53", () => {
    const record: PolicyRecord = {
      id: "p1",
      version: 3,
      name: "Big",
      scope: "USER",
      scopeId: AGENT_ID,
      enabled: true,
      mode: "SHADOW",
      authority: "RESTRICTION",
      rules: [
        { id: "r1", pattern: "llm.*", effect: "ALLOW", maxCostPerAction: 9_007_199_254_740_993n, locked: false },
        { id: "r2", pattern: "*", effect: "DENY", locked: true },
      ],
      caps: [{ id: "c1", per: "OWNER", window: "TOTAL", limit: MAX_MONEY, locked: true }],
      builtIn: false,
      createdAt: new Date("2025-01-02T03:04:05.678Z"),
      createdBy: null,
      updatedAt: new Date("2025-02-02T03:04:05.678Z"),
      updatedBy: AGENT_ID,
      deletedAt: null,
    };
    const snapshot = toSnapshot(record);
    expect(snapshot.rules[0]?.maxCostPerAction).toBe("9007199254740993");
    expect(snapshot.caps[0]?.limit).toBe("9223372036854775807");
    expect(fromSnapshot(JSON.parse(JSON.stringify(snapshot)))).toEqual(record);
  });
});
