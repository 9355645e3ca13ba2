import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildDecisionRecord, canonicalJson, decisionDigest, publicReasons, requestOf, spendOf, type DecisionRecord } from "../../src/actions/decision-record";
import { evaluate } from "../../src/policy/evaluator";
import { cap, NOW, policy, request, rule, spendView, u } from "../support/policy-builders";

/**
 * A decision record survives storage (JSON in a jsonb column, which reorders keys) and
 * replays to the same decision (same digest): the property `replayDecision` relies on. A
 * different decision has a different digest, so the check is not vacuous.
 */
const stored = (record: DecisionRecord): DecisionRecord => {
  const json = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  // jsonb keeps no key order: reverse it to prove nothing depends on it.
  const reorder = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reorder)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).reverse().map(([key, inner]) => [key, reorder(inner)]))
        : value;
  return reorder(json) as DecisionRecord;
};

const chain = [
  policy("g", "GLOBAL", { rules: [rule("llm", "llm.*", "ALLOW"), rule("pay", "payments.*", "DENY", { locked: true })], caps: [cap("day", "GLOBAL", "DAY", u(100))] }),
  policy("u", "USER", { rules: [rule("mail", "email.send", "REQUIRE_APPROVAL")], caps: [cap("own", "OWNER", "DAY", u(20))] }),
  policy("a", "AGENT", { rules: [rule("emb", "llm.embedding", "DENY")], caps: [cap("mine", "AGENT", "DAY", u(5))] }),
  policy("s", "AGENT", { mode: "SHADOW", rules: [rule("chat", "llm.chat", "DENY")] }),
];

describe("decision records", () => {
  it("replay to a deep-equal decision after a storage round trip, whatever the input", () => {
    const actions = fc.constantFrom("llm.chat", "llm.embedding", "email.send", "payments.transfer", "files.read");
    fc.assert(
      fc.property(actions, fc.bigInt({ min: 0n, max: u(30) }), fc.bigInt({ min: 0n, max: u(30) }), (action, cost, spent) => {
        const req = request(action, cost);
        const spend = spendView(NOW, [
          ["AGENT", "DAY", spent / 4n],
          ["OWNER", "DAY", spent],
          ["GLOBAL", "DAY", spent * 3n],
        ]);
        const decision = evaluate(chain, req, spend, NOW);
        const record = stored(buildDecisionRecord(req, spend, decision, NOW));
        const replayed = evaluate(chain, requestOf(record), spendOf(record), new Date(record.at));
        expect(decisionDigest(replayed)).toBe(record.decisionSha256);
        expect(record.outcome).toBe(decision.outcome);
      }),
    );
  });

  it("records both passes' policy versions and the input with money as strings", () => {
    const req = request("llm.chat", u(2), { resource: "model:x" });
    const record = buildDecisionRecord(req, new Map(), evaluate(chain, req, new Map(), NOW), NOW);
    expect(record.request).toMatchObject({ action: "llm.chat", resource: "model:x", estimatedCost: "2000000" });
    expect(record.policies.map((ref) => ref.id).sort()).toEqual(["a", "g", "s", "u"]);
  });

  it("gives public reasons the rule or cap they name as fields", () => {
    const req = request("llm.chat", u(6));
    const [reason] = publicReasons(evaluate(chain, req, new Map(), NOW));
    expect(reason).toMatchObject({ code: "CAP_EXCEEDED", scope: "AGENT", per: "AGENT", window: "DAY", capId: "mine", limit: u(5).toString(), spent: "0", cost: u(6).toString() });
  });

  it("tells decisions apart: a replay on other spend does not match", () => {
    const req = request("llm.chat", u(3));
    const spend = spendView(NOW, [["AGENT", "DAY", u(1)]]);
    const record = buildDecisionRecord(req, spend, evaluate(chain, req, spend, NOW), NOW);
    const other = evaluate(chain, req, spendView(NOW, [["AGENT", "DAY", u(2)]]), NOW);
    expect(other.outcome).toBe("ALLOWED");
    expect(decisionDigest(other)).not.toBe(record.decisionSha256);
  });

  it("canonical JSON ignores key order and writes bigints as strings", () => {
    expect(canonicalJson({ b: 1n, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: "1" }));
  });
});
