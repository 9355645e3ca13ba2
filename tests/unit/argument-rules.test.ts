import { getNamedType, GraphQLID, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLString, type GraphQLArgument } from "graphql";
import { GraphQLJSONObject } from "graphql-scalars";
import { describe, expect, it } from "vitest";
import { assertStorableArguments, OPAQUE_ID_ARGUMENTS } from "../../src/graphql/argument-rules";
import { buildAppSchema } from "../../src/graphql/build-schema";

const Filter = new GraphQLInputObjectType({
  name: "Filter",
  fields: { agentId: { type: GraphQLID }, tags: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) }, meta: { type: GraphQLJSONObject } },
});
const arg = (name: string, type: GraphQLArgument["type"]) => ({ name, type }) as GraphQLArgument;
const ARGS = [arg("id", GraphQLID), arg("filter", Filter), arg("input", Filter)];
const ID = "6f1c2b8e-3a4d-4e5f-8a9b-0c1d2e3f4a5b";

function refusal(args: Record<string, unknown>, coordinate = "Query.thing"): unknown {
  try {
    assertStorableArguments(coordinate, ARGS, args);
    return undefined;
  } catch (error) {
    return (error as { extensions: unknown }).extensions;
  }
}

describe("the argument rule", () => {
  it("accepts ordinary values, including text with newlines and paired surrogates", () => {
    expect(refusal({ id: ID, filter: { agentId: ID, tags: ["a\nb", "😀"], meta: { deep: [{ x: "y" }] } } })).toBeUndefined();
  });

  it("names the path of the first bad value: argument, input field, list index, JSON", () => {
    expect(refusal({ id: "12" })).toEqual({ code: "BAD_USER_INPUT", field: "id" });
    expect(refusal({ id: ID, filter: { agentId: "x" } })).toEqual({ code: "BAD_USER_INPUT", field: "filter.agentId" });
    expect(refusal({ id: ID, filter: { tags: ["ok", "a\u0000"] } })).toEqual({ code: "BAD_USER_INPUT", field: "filter.tags[1]" });
    expect(refusal({ id: ID, input: { tags: ["\uDC00"] } })).toEqual({ code: "BAD_USER_INPUT", field: "tags[0]" });
    expect(refusal({ id: ID, input: { meta: { ["k\u0000"]: 1 } } })).toEqual({ code: "BAD_USER_INPUT", field: "meta" });
  });

  it("refuses JSON nested deeper than the limit without overflowing the stack", () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i += 1) deep = { a: deep };
    expect(refusal({ id: ID, input: { meta: deep } })).toEqual({ code: "BAD_USER_INPUT", field: "meta" });
  });

  it("takes opaque token ids only where listed, and every listed argument exists and is an ID", () => {
    expect(refusal({ id: "56oAwCxEePBJMJIZMRGzqw" }, "Mutation.revokeAgentApiKey")).toBeUndefined();
    expect(refusal({ id: "56oAwCxEePBJMJIZMRGzqw" })).toEqual({ code: "BAD_USER_INPUT", field: "id" });
    const schema = buildAppSchema();
    for (const coordinate of OPAQUE_ID_ARGUMENTS) {
      const [type, field, name] = coordinate.split(".") as [string, string, string];
      const definition = (schema.getType(type) as { getFields(): Record<string, { args: readonly GraphQLArgument[] }> }).getFields()[field];
      const argument = definition?.args.find((candidate) => candidate.name === name);
      expect(argument && getNamedType(argument.type).name, coordinate).toBe("ID");
    }
  });
});
