import { describe, expect, it } from "vitest";
import { whatIf } from "../../src/actions/action-replay";
import type { ReplayRow } from "../../src/actions/action.repository";
import { buildDecisionRecord } from "../../src/actions/decision-record";
import { evaluate } from "../../src/policy/evaluator";
import type { Policy } from "../../src/policy/policy-types";
import { NOW, policy, request, rule, u } from "../support/policy-builders";

/**
 * What-if replays recorded actions with a proposed policy. It reports the decisions the
 * proposal changes, and it never holds the event loop for a whole replay: between slices of
 * actions it lets other work run.
 */
const base = policy("g", "GLOBAL", { rules: [rule("all", "*", "ALLOW")] });
const proposal = policy("p", "AGENT", { rules: [rule("chat", "llm.chat", "DENY")] });
const loader = async (id: string): Promise<Policy> => {
  if (id !== base.id) throw new Error(`unexpected policy ${id}`);
  return base;
};

function recorded(index: number, action: string): ReplayRow {
  const req = request(action, u(1));
  const decision = evaluate([base], req, new Map(), NOW);
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
    agentId: "a1",
    action,
    estimatedCost: u(1),
    decidedAt: NOW,
    outcome: decision.outcome,
    record: buildDecisionRecord(req, new Map(), decision, NOW) as unknown as ReplayRow["record"],
  };
}

async function* pagesOf(rows: ReplayRow[], size: number) {
  for (let start = 0; start < rows.length; start += size) yield rows.slice(start, start + size);
}

describe("whatIf", () => {
  const rows = Array.from({ length: 600 }, (_, i) => recorded(i, i % 3 === 0 ? "llm.chat" : "files.read"));

  it("reports exactly the decisions the proposal changes", async () => {
    const report = await whatIf(pagesOf(rows, 250), proposal, null, loader);
    expect(report.considered).toBe(600);
    expect(report.changed).toBe(200);
    expect(report.newlyDenied).toBe(200);
    expect(new Set(report.changes.map((change) => change.action))).toEqual(new Set(["llm.chat"]));
  });

  it("lets other work run while it replays", async () => {
    let turns = 0;
    let running = true;
    const spin = () => {
      if (!running) return;
      turns += 1;
      setImmediate(spin);
    };
    setImmediate(spin);
    await whatIf(pagesOf(rows, 600), proposal, null, loader);
    running = false;
    // 600 actions in slices: other callbacks got turns in between, not only after.
    expect(turns).toBeGreaterThanOrEqual(10);
  });
});
