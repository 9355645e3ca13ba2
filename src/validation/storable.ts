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

/** Whether any key or string of a JSON value is text PostgreSQL's jsonb refuses. */
export function hasUnstorableJsonText(value: unknown): boolean {
  if (typeof value === "string") return !isStorableText(value);
  if (Array.isArray(value)) return value.some(hasUnstorableJsonText);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([key, inner]) => !isStorableText(key) || hasUnstorableJsonText(inner));
  }
  return false;
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
