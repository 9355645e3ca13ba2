import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString, Kind, parseValue } from "graphql";
import { describe, expect, it } from "vitest";
import { MoneyScalar, parseMoney, serializeMoney } from "../../src/schema/money.scalar";

describe("Money input (variables)", () => {
  it("accepts safe JSON integers and strings of digits, as exact bigints", () => {
    expect(parseMoney(0)).toBe(0n);
    expect(parseMoney(1_500_000)).toBe(1_500_000n);
    expect(parseMoney(Number.MAX_SAFE_INTEGER)).toBe(9_007_199_254_740_991n);
    expect(parseMoney("9223372036854775807")).toBe(9_223_372_036_854_775_807n);
    expect(parseMoney("0042")).toBe(42n);
  });

  it("parses a leading minus, so that the service can refuse the negative amount naming its field", () => {
    expect(parseMoney(-5)).toBe(-5n);
    expect(parseMoney("-5")).toBe(-5n);
  });

  it.each([
    ["a fraction", 1.5],
    ["an unsafe JSON number", 2 ** 53],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a decimal string", "1.5"],
    ["an exponent", "1e6"],
    ["a plus sign", "+5"],
    ["spaces", " 5"],
    ["an empty string", ""],
    ["a lone minus", "-"],
    ["hex", "0x10"],
    ["41 digits", "1".repeat(41)],
    ["a boolean", true],
    ["null", null],
    ["an object", { amount: 5 }],
  ])("refuses %s", (_, value) => {
    expect(() => parseMoney(value)).toThrow(/^Money must be/);
  });
});

describe("Money literals", () => {
  const literal = (source: string) => MoneyScalar.parseLiteral(parseValue(source), undefined);

  it("accepts integer and string literals", () => {
    expect(literal("12")).toBe(12n);
    expect(literal('"123456789012345678"')).toBe(123_456_789_012_345_678n);
    expect(literal("-3")).toBe(-3n);
  });

  it("refuses floats, booleans, enums and malformed strings", () => {
    for (const source of ["1.5", "true", "FIVE", '"1.0"', "[1]"]) {
      expect(() => literal(source), source).toThrow(/^Money must be/);
    }
    expect(parseValue("1.5").kind).toBe(Kind.FLOAT);
  });
});

describe("Money output", () => {
  it("serializes bigints (and safe integers) as decimal strings", () => {
    expect(serializeMoney(0n)).toBe("0");
    expect(serializeMoney(9_223_372_036_854_775_807n)).toBe("9223372036854775807");
    expect(serializeMoney(-7n)).toBe("-7");
    expect(serializeMoney(42)).toBe("42");
    expect(serializeMoney("0042")).toBe("42");
  });

  it("refuses anything that is not an integer", () => {
    for (const value of [1.5, "abc", null, undefined, {}]) expect(() => serializeMoney(value)).toThrow(/cannot represent/);
  });

  it("round-trips through a schema: integer or string in, string out", async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: "Query",
        fields: {
          echo: {
            type: MoneyScalar,
            args: { amount: { type: MoneyScalar } },
            resolve: (_, args: { amount: bigint }) => {
              expect(typeof args.amount).toBe("bigint");
              return args.amount * 2n;
            },
          },
          name: { type: GraphQLString },
        },
      }),
    });
    const run = (amount: unknown) =>
      graphql({ schema, source: "query ($amount: Money) { echo(amount: $amount) }", variableValues: { amount } });
    expect((await run(21)).data).toEqual({ echo: "42" });
    expect((await run("4611686018427387904")).data).toEqual({ echo: "9223372036854775808" });
    const bad = await run("12.5");
    expect(bad.errors?.[0]?.message).toMatch(/Money must be an integer number of micro-units/);
    const inline = await graphql({ schema, source: '{ echo(amount: "5") }' });
    expect(inline.data).toEqual({ echo: "10" });
  });
});
