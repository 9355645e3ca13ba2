import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

/**
 * `Money`: an exact integer count of micro-units (1 currency unit = 1,000,000), held as a
 * bigint on the server. Input: a JSON integer (a safe integer: beyond 2^53 a JSON number has
 * already lost digits) or a string of decimal digits, either with an optional leading minus.
 * A negative amount parses, so that the service can refuse it naming the field it came in
 * (`caps[0].limit`); anything else (a fraction, an exponent, `1e3`, `+5`, spaces, an empty
 * string, more than 40 digits) is refused here. Output: the decimal string of the amount.
 */
const INTEGER_TEXT = /^-?\d{1,40}$/;

const refuse = (why: string) => new GraphQLError(`Money must be ${why}`);

function fromText(text: string): bigint {
  if (!INTEGER_TEXT.test(text)) throw refuse("an integer number of micro-units: digits only, as a JSON integer or a string");
  return BigInt(text);
}

/** Parses a Money input value (variables); exported for the unit tests. */
export function parseMoney(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw refuse("an integer (as a JSON number, at most 2^53 - 1; send larger amounts as a string)");
    return BigInt(value);
  }
  if (typeof value === "string") return fromText(value);
  throw refuse("a JSON integer or a string of digits");
}

/** Serializes an amount as a decimal string. */
export function serializeMoney(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && INTEGER_TEXT.test(value)) return BigInt(value).toString();
  throw new GraphQLError("Money cannot represent a non-integer value");
}

function parseMoneyLiteral(node: ValueNode): bigint {
  if (node.kind === Kind.INT || node.kind === Kind.STRING) return fromText(node.value);
  throw refuse("an integer literal or a string of digits");
}

export const MoneyScalar = new GraphQLScalarType<bigint, string>({
  name: "Money",
  description:
    "An exact amount in micro-units (1 currency unit = 1,000,000), never a float. Input: a JSON integer or a string of digits. Output: always a string of digits.",
  serialize: serializeMoney,
  parseValue: parseMoney,
  parseLiteral: parseMoneyLiteral,
});
