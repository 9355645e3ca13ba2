import { describe, expect, it } from "vitest";
import { countersFor } from "../../src/policy/counters";
import { evaluate } from "../../src/policy/evaluator";
import { cap, NOW, policy, request, rule, u } from "../support/policy-builders";

/** The fifteen counters every action reads and, when allowed, charges. */
describe("countersFor", () => {
  const counters = countersFor({ agentId: "a1", ownerId: "u1" }, NOW);

  it("names every (per, window) once, sorted by key, for this agent, its owner and everyone", () => {
    expect(counters).toHaveLength(15);
    expect(counters.map((counter) => counter.key)).toEqual([...counters.map((counter) => counter.key)].sort());
    expect(new Set(counters.map((counter) => `${counter.per}/${counter.window}`)).size).toBe(15);
    const subjects = Object.fromEntries(counters.map((counter) => [counter.per, counter.subject]));
    expect(subjects).toEqual({ AGENT: "a1", OWNER: "u1", GLOBAL: "global" });
  });

  it("gives each window instance its UTC bounds (WEEK from Monday; TOTAL unbounded)", () => {
    const byWindow = (window: string) => counters.find((counter) => counter.per === "AGENT" && counter.window === window)!;
    expect(byWindow("DAY")).toMatchObject({ windowStart: new Date("2024-03-13T00:00:00.000Z"), windowEnd: new Date("2024-03-14T00:00:00.000Z") });
    expect(byWindow("WEEK")).toMatchObject({ windowStart: new Date("2024-03-11T00:00:00.000Z"), windowEnd: new Date("2024-03-18T00:00:00.000Z") });
    expect(byWindow("MONTH").windowEnd).toEqual(new Date("2024-04-01T00:00:00.000Z"));
    expect(byWindow("TOTAL")).toMatchObject({ windowStart: null, windowEnd: null });
  });

  it("includes the counter of every cap the evaluator checks, so the ledger locks what a decision reads", () => {
    const chain = [
      policy("g", "GLOBAL", { rules: [rule("r", "*", "ALLOW")], caps: [cap("c1", "GLOBAL", "HOUR", u(5))] }),
      policy("o", "USER", { caps: [cap("c2", "OWNER", "MONTH", u(5))] }),
      policy("a", "AGENT", { caps: [cap("c3", "AGENT", "TOTAL", u(5))] }),
    ];
    const decision = evaluate(chain, request("llm.chat", u(1)), new Map(), NOW);
    const keys = new Set(counters.map((counter) => counter.key));
    expect(decision.caps).toHaveLength(3);
    for (const checked of decision.caps) expect(keys.has(checked.key)).toBe(true);
  });
});
