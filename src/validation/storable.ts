/**
 * What PostgreSQL can store, checked before a value reaches a statement: a value outside
 * these bounds makes the statement fail, and the client would see an internal error
 * instead of a refusal naming its input.
 */

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/;
/** A UTF-16 surrogate without its pair: not a character, not encodable as UTF-8. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** text and jsonb refuse NUL; UTF-8 has no encoding for a lone surrogate. */
export function isStorableText(text: string): boolean {
  return !NUL.test(text) && !LONE_SURROGATE.test(text);
}

/** Deepest nesting of a JSON input: far beyond any real document, far below what recursion (JSON.stringify, jsonb) survives. */
export const MAX_JSON_DEPTH = 64;

/**
 * What keeps a JSON value out of jsonb, found without recursion (a hostile body can nest
 * thousands of levels): nesting deeper than MAX_JSON_DEPTH, or a key or string that is not
 * storable text.
 */
export function jsonProblem(root: unknown): "depth" | "text" | undefined {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === "string") {
      if (!isStorableText(value)) return "text";
    } else if (value !== null && typeof value === "object") {
      if (depth >= MAX_JSON_DEPTH) return "depth";
      for (const [key, inner] of Object.entries(value)) {
        if (!Array.isArray(value) && !isStorableText(key)) return "text";
        pending.push({ value: inner, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/**
 * timestamptz stores 4713 BC to 294276 AD, but JavaScript prints years outside 1..9999 in
 * forms PostgreSQL does not parse (`0000-…`, `+275760-…`); years 1 to 9999 are the window
 * both sides agree on, and far wider than any real timestamp here.
 */
export function isStorableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return Number.isFinite(date.getTime()) && year >= 1 && year <= 9999;
}

export const MAX_INT8 = 9_223_372_036_854_775_807n;

/** Whether an integer fits PostgreSQL's bigint (int8). */
export function isStorableInt8(value: bigint): boolean {
  return value >= -MAX_INT8 - 1n && value <= MAX_INT8;
}
