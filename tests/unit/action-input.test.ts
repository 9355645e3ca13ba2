import { describe, expect, it } from "vitest";
import { checkActionInput, MAX_ACTION_COST } from "../../src/actions/action-input";
import { refusedField } from "../support/assertions";

/** What an agent may submit, refused before any decision with the field named. */
const field = refusedField;

describe("checkActionInput", () => {
  it("accepts a plain action and fills the optional parts", () => {
    expect(checkActionInput({ action: "llm.chat", estimatedCost: 0n })).toMatchObject({ resource: null, idempotencyKey: null, metadata: null });
    expect(checkActionInput({ action: "llm.chat", estimatedCost: MAX_ACTION_COST }).estimatedCost).toBe(MAX_ACTION_COST);
  });

  const cases: [string, Parameters<typeof checkActionInput>[0], string][] = [
    ["a pattern as the action", { action: "llm.*", estimatedCost: 1n }, "action"],
    ["an empty segment", { action: "llm..chat", estimatedCost: 1n }, "action"],
    ["a negative cost", { action: "llm.chat", estimatedCost: -1n }, "estimatedCost"],
    ["a cost above the maximum", { action: "llm.chat", estimatedCost: MAX_ACTION_COST + 1n }, "estimatedCost"],
    ["an empty resource", { action: "llm.chat", estimatedCost: 1n, resource: "" }, "resource"],
    ["an empty key", { action: "llm.chat", estimatedCost: 1n, idempotencyKey: "" }, "idempotencyKey"],
    ["a key outside printable ASCII", { action: "llm.chat", estimatedCost: 1n, idempotencyKey: "ключ" }, "idempotencyKey"],
    ["a NUL in the resource", { action: "llm.chat", estimatedCost: 1n, resource: "a\u0000b" }, "resource"],
    ["a NUL in a metadata string", { action: "llm.chat", estimatedCost: 1n, metadata: { nested: ["ok", "x\u0000"] } }, "metadata"],
    ["a lone surrogate in a metadata key", { action: "llm.chat", estimatedCost: 1n, metadata: { "\ud800": 1 } }, "metadata"],
    ["metadata over 8 KiB", { action: "llm.chat", estimatedCost: 1n, metadata: { text: "x".repeat(8200) } }, "metadata"],
  ];
  it.each(cases)("refuses %s, naming the field", (_label, input, name) => {
    expect(field(() => checkActionInput(input))).toBe(name);
  });

  it("hashes the input so a retry must repeat it: key order does not matter, content does", () => {
    const base = { action: "llm.chat", estimatedCost: 5n, metadata: { a: 1, b: [1, 2] } };
    const hash = checkActionInput({ ...base, idempotencyKey: "k" }).inputHash;
    expect(checkActionInput({ ...base, idempotencyKey: "other", metadata: { b: [1, 2], a: 1 } }).inputHash).toBe(hash);
    expect(checkActionInput({ ...base, estimatedCost: 6n }).inputHash).not.toBe(hash);
    expect(checkActionInput({ ...base, resource: "r" }).inputHash).not.toBe(hash);
    expect(checkActionInput({ ...base, metadata: { a: 2, b: [1, 2] } }).inputHash).not.toBe(hash);
  });
});
