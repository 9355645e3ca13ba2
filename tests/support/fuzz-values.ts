import fc from "fast-check";
import {
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
} from "graphql";

/**
 * fast-check arbitraries for GraphQL argument values, drawn from the input types of the
 * served schema: mostly plausible values (so requests get past coercion into the services),
 * mixed with hostile ones (wrong types, huge/empty/control-character strings, NUL, lone
 * surrogates, malformed ids, crafted cursors, dates at the edges, extreme numbers, deep JSON).
 */

const b64 = (text: string) => Buffer.from(text).toString("base64url");

const EDGE_DATES = [
  "0000-01-01T00:00:00Z",
  "0000-12-31T23:59:59.999Z",
  "0001-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "9999-12-31T23:59:59.999Z",
  "+275760-09-13T00:00:00.000Z",
  "-271821-04-20T00:00:00.000Z",
  "2026-02-30T00:00:00Z",
  "2026-01-01T25:00:00Z",
  "2026-01-01",
];

const hostileText = fc.oneof(
  fc.constantFrom("", " ", "\u0000", "a\u0000b", "\uD800", "x\uDFFFy", "\uD83D", "' OR 1=1 --", "%_\\", "\r\n\t", "\u202E", "null"),
  fc.string({ unit: fc.constantFrom("\u0000", "\u0001", "\u001f", "\u007f", "\n", "a", "\uD800", "\uDC00", "é") }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 300, max: 20_000 }).map((n) => "x".repeat(n)),
);

export const uuid = fc.uuid();

const malformedId = fc.oneof(
  fc.constantFrom("x", "12", "", "0", "-1", "00000000-0000-0000-0000-000000000000", "6f1c2b8e-3a4d-4e5f-8a9b-0c1d2e3f4a5g"),
  uuid.map((id) => `${id}0`),
  uuid.map((id) => id.replace(/-/g, "")),
  uuid.map((id) => ` ${id}`),
  uuid.map((id) => id.toUpperCase()),
);

const dateText = fc.oneof(
  fc.constantFrom(...EDGE_DATES),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ noInvalidDate: true, min: new Date("2020-01-01"), max: new Date("2030-01-01") }).map((date) => date.toISOString()),
);

/** Cursors as each connection writes them, and crafted ones around their checks. */
const cursor = fc.oneof(
  fc.tuple(fc.constantFrom(...EDGE_DATES, "2026-01-01T00:00:00.000Z"), uuid).map(([at, id]) => b64(`${at}|${id}`)),
  fc.constantFrom("9223372036854775807", "9223372036854775808", "9999999999999999999", "0", "1", "-1").map(b64),
  fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map((n) => b64(n.toString())),
  fc
    .tuple(fc.constantFrom("CREATED_AT", "EMAIL", "LAST_LOGIN_AT", "X"), fc.oneof(dateText, hostileText), fc.oneof(uuid, malformedId))
    .map((parts) => b64(JSON.stringify(parts))),
  fc.string({ maxLength: 30 }),
  hostileText,
);

const money = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 12n }).map(String),
  fc.constantFrom("0", "-1", "1.5", "1e6", "abc", "", "9223372036854775807", "9223372036854775808", "1000000000000000001", "0x10", " 1"),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.integer(),
);

const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.string(), hostileText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), hostileText), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/**
 * An object nested `depth` levels deep (JSON parsers and walkers that recurse meet their
 * limit), built only when the request is serialised, and printed short in a counterexample.
 */
class DeepJson {
  constructor(readonly depth: number) {}
  /** A placeholder that `toRequestBody` expands (JSON.stringify itself overflows its stack near 5,000 levels). */
  toJSON(): string {
    return `__DEEP_JSON_${this.depth}__`;
  }
  [fc.toStringMethod](): string {
    return `DeepJson(${this.depth})`;
  }
}
const deepJson = fc.integer({ min: 50, max: 9_000 }).map((depth) => new DeepJson(depth));

const int = fc.oneof(
  fc.integer({ min: -5, max: 300 }),
  fc.constantFrom(0, -1, 1, 2_147_483_647, -2_147_483_648),
  fc.constantFrom(2_147_483_648, 2 ** 53, -(2 ** 63), 1.5, Number.MAX_VALUE, "12", "one"),
);

/** A value of the wrong type for whatever was asked. */
const wrongType = fc.oneof(
  fc.constantFrom<unknown>(true, 0, -1.5, "", [], {}, [null], { a: 1 }),
  fc.integer(),
  fc.string({ maxLength: 10 }),
);

function scalar(name: string, ids: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  switch (name) {
    case "ID":
      return fc.oneof({ weight: 3, arbitrary: ids }, { weight: 1, arbitrary: uuid }, { weight: 2, arbitrary: malformedId }, { weight: 1, arbitrary: hostileText });
    case "String":
      return fc.oneof({ weight: 2, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 2, arbitrary: hostileText }, { weight: 1, arbitrary: cursor }, { weight: 1, arbitrary: ids });
    case "Int":
      return int;
    case "Float":
      return fc.oneof(fc.double(), int);
    case "Boolean":
      return fc.boolean();
    case "DateTimeISO":
      return fc.oneof(dateText, hostileText);
    case "Money":
      return money;
    case "JSONObject":
      return fc.oneof({ weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 5 }) }, { weight: 1, arbitrary: deepJson }, { weight: 1, arbitrary: json });
    default:
      return fc.oneof(fc.string(), json);
  }
}

/**
 * A value for `type`; `ids` draws ids that exist (so requests reach past "not found").
 * About one value in twelve is of the wrong type, and optional values are often left out.
 */
export function valueFor(type: GraphQLInputType, ids: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<unknown> {
  const nullable = getNullableType(type);
  let arbitrary: fc.Arbitrary<unknown>;
  if (isListType(nullable)) {
    arbitrary = fc.array(valueFor(nullable.ofType, ids, depth + 1), { maxLength: depth > 2 ? 1 : 4 });
  } else if (isInputObjectType(nullable)) {
    const fields = Object.values(nullable.getFields());
    const entries = fields.map((field) => {
      const inner = valueFor(field.type, ids, depth + 1);
      return [field.name, isNonNullType(field.type) ? inner : fc.option(inner, { nil: undefined, freq: 2 })] as const;
    });
    arbitrary = fc.record(Object.fromEntries(entries) as Record<string, fc.Arbitrary<unknown>>);
  } else if (isEnumType(nullable)) {
    arbitrary = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...nullable.getValues().map((value) => value.name)) }, { weight: 1, arbitrary: fc.constantFrom("NOT_A_VALUE", "", "admin") });
  } else if (isScalarType(nullable)) {
    arbitrary = scalar(nullable.name, ids);
  } else {
    arbitrary = wrongType;
  }
  return fc.oneof({ weight: 11, arbitrary }, { weight: 1, arbitrary: wrongType });
}

/** The JSON text of a request body, with deep JSON values expanded in place. */
export function toRequestBody(body: unknown): string {
  return JSON.stringify(body).replace(/"__DEEP_JSON_(\d+)__"/g, (_match, depth: string) => {
    const n = Number(depth);
    return `${'{"nested":'.repeat(n)}{"leaf":"\\u0000"}${"}".repeat(n)}`;
  });
}
