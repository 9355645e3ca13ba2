import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/policy/evaluator";
import type { ActionRequest, Policy } from "../../src/policy/policy-types";
import { checkSettle, loadSettleBound, settleBound, storeSettleBound, type SettleBound } from "../../src/policy/settle-bound";

const NOW = new Date("2026-03-02T09:00:00.000Z");
const U = 1_000_000n;

function policy(partial: Partial<Policy> & Pick<Policy, "id" | "scope">): Policy {
  return { version: 1, name: partial.id, scopeId: null, enabled: true, mode: "ENFORCE", authority: "OVERRIDE", rules: [], caps: [], ...partial };
}

const request = (estimatedCost: bigint): ActionRequest => ({ agentId: "agent-1", ownerId: "owner-1", ownerRoles: ["USER"], action: "llm.chat", estimatedCost });

/** The bound of `request` decided under `chain` on an empty ledger. */
function boundOf(chain: Policy[], estimate: bigint): SettleBound {
  const decision = evaluate(chain, request(estimate), new Map(), NOW);
  expect(decision.outcome).toBe("ALLOWED");
  return settleBound(chain, request(estimate), decision.caps);
}

const globalAllow = (rule: Partial<Policy["rules"][number]> = {}, caps: Policy["caps"] = []) =>
  policy({ id: "g", scope: "GLOBAL", rules: [{ id: "r-g", pattern: "llm.*", effect: "ALLOW", locked: false, ...rule }], caps });

describe("the ceiling a settle may reach", () => {
  it("defaults to twice the estimate when no rule bounds it (0 for an action estimated at 0)", () => {
    expect(boundOf([globalAllow()], 3n * U)).toMatchObject({ ceiling: 6n * U, source: { kind: "DEFAULT" } });
    expect(boundOf([globalAllow()], 0n).ceiling).toBe(0n);
  });

  it("is the deciding rule's maxCostPerAction when it has one (defect 5: estimate 0, max 2 units)", () => {
    expect(boundOf([globalAllow({ maxCostPerAction: 2n * U })], 0n)).toMatchObject({ ceiling: 2n * U, source: { kind: "RULE_MAX_COST", ruleId: "r-g" } });
  });

  it("is estimate + overrunAllowance when the rule sets one, even above its max cost", () => {
    expect(boundOf([globalAllow({ maxCostPerAction: 2n * U, overrunAllowance: 5n * U })], 1n * U)).toMatchObject({
      ceiling: 6n * U,
      source: { kind: "RULE_ALLOWANCE" },
    });
  });

  it("takes the lowest ceiling of the deciding rule and every limit rule (a locked floor, a restriction layer)", () => {
    const floor = policy({ id: "f", scope: "GLOBAL", rules: [{ id: "r-f", pattern: "llm.*", effect: "ALLOW", locked: true, maxCostPerAction: 4n * U }] });
    const agent = policy({ id: "a", scope: "AGENT", scopeId: "agent-1", rules: [{ id: "r-a", pattern: "llm.chat", effect: "ALLOW", locked: false, overrunAllowance: 10n * U }] });
    expect(boundOf([floor, agent], 1n * U)).toMatchObject({ ceiling: 4n * U, source: { ruleId: "r-f" } });
    const layer = policy({ id: "l", scope: "AGENT", scopeId: "agent-1", authority: "RESTRICTION", rules: [{ id: "r-l", pattern: "llm.*", effect: "ALLOW", locked: false, overrunAllowance: 0n }] });
    expect(boundOf([floor, agent, layer], 1n * U)).toMatchObject({ ceiling: 1n * U, source: { ruleId: "r-l" } });
  });

  it("survives its stored form", () => {
    const bound = boundOf([globalAllow({ maxCostPerAction: 9n * U }, [{ id: "c", per: "GLOBAL", window: "DAY", limit: 20n * U, overrunAllowance: U, locked: false }])], U);
    expect(loadSettleBound(JSON.parse(JSON.stringify(storeSettleBound(bound))))).toEqual(bound);
  });
});

describe("checkSettle", () => {
  const capped = (limit: bigint, allowance?: bigint) =>
    boundOf([globalAllow({ overrunAllowance: 100n * U }, [{ id: "c", per: "GLOBAL", window: "DAY", limit, locked: false, ...(allowance === undefined ? {} : { overrunAllowance: allowance }) }])], 2n * U);
  const key = (bound: SettleBound) => bound.caps[0]!.key;

  it("accepts anything up to what the action holds, whatever the caps say now", () => {
    const bound = capped(5n * U);
    expect(checkSettle(bound, new Map([[key(bound), 50n * U]]), 2n * U, 2n * U)).toBeNull();
  });

  it("refuses above the ceiling, naming it", () => {
    const bound = boundOf([globalAllow({}, [{ id: "c", per: "GLOBAL", window: "DAY", limit: 100n * U, locked: false }])], 2n * U);
    expect(checkSettle(bound, new Map(), 2n * U, 5n * U)).toMatchObject({ bound: "CEILING", allowed: 4n * U, requested: 5n * U, source: { kind: "DEFAULT" } });
  });

  it("accepts an overrun only as far as the cap's room left by others, plus its allowance", () => {
    const bound = capped(10n * U);
    // 2 held by this action, 6 by others: room 4 for this action.
    const spend = new Map([[key(bound), 8n * U]]);
    expect(checkSettle(bound, spend, 2n * U, 4n * U)).toBeNull();
    expect(checkSettle(bound, spend, 2n * U, 4n * U + 1n)).toMatchObject({ bound: "CAP", allowed: 4n * U, spent: 6n * U, cap: { per: "GLOBAL" } });
    const tolerant = capped(10n * U, U);
    expect(checkSettle(tolerant, new Map([[key(tolerant), 8n * U]]), 2n * U, 4n * U + 1n)).toBeNull();
  });

  it("a late settle (nothing held) must fit the caps like a new charge (defect 9)", () => {
    const bound = capped(5n * U);
    expect(checkSettle(bound, new Map([[key(bound), 5n * U]]), 0n, 2n * U)).toMatchObject({ bound: "CAP", allowed: 0n });
  });

  it("property: an accepted settle never leaves a counter above limit + allowance unless it stayed within what it held", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 30n }),
        fc.bigInt({ min: 0n, max: 5n }),
        fc.bigInt({ min: 0n, max: 10n }),
        fc.bigInt({ min: 0n, max: 30n }),
        fc.bigInt({ min: 0n, max: 20n }),
        (limit, allowance, held, others, actual) => {
          const bound: SettleBound = {
            ceiling: 25n,
            source: { kind: "DEFAULT" },
            caps: [{ capId: "c", policyId: "g", policyVersion: 1, per: "GLOBAL", window: "DAY", key: "k", limit, allowance }],
          };
          const spend = new Map([["k", others + held]]);
          const refusal = checkSettle(bound, spend, held, actual);
          if (refusal === null) {
            expect(actual <= bound.ceiling).toBe(true);
            expect(actual <= held || others + actual <= limit + allowance).toBe(true);
          } else {
            expect(refusal.allowed < actual).toBe(true);
            expect(checkSettle(bound, spend, held, refusal.allowed)).toBeNull();
          }
        },
      ),
    );
  });
});
