/**
 * Audit details as they are stored and hashed, built in one walk: strings cleaned and
 * clipped, values as JSON stores them (Dates as their ISO text, `undefined` members dropped
 * and `undefined` array items null, non-finite numbers null), object keys sorted at every
 * depth. The result is its own stored form (JSON round trip and key sorting change nothing),
 * so the recorder hashes it as it is; the verifier, reading rows back from jsonb, sorts
 * them again (audit-chain.ts) and gets the same text.
 *
 * On every audited change's path (each agent decision's details hold every cap it checked),
 * hence one walk instead of a cleaning copy, a JSON round trip and a sorting copy.
 */

const MAX_TEXT = 512;
// PostgreSQL text and jsonb cannot hold NUL; other control characters only hide things from reviewers.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// A lone surrogate (say, from clipping a pair in half) would be stored as U+FFFD, and the row
// would then no longer match its hash: replace it before hashing.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Anything `clean` could change, short of the length: most strings have none of it. */
// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\uD800-\uDFFF]/;

/** Control characters replaced, clipped to MAX_TEXT, lone surrogates replaced. */
export function cleanText(value: string): string {
  if (value.length <= MAX_TEXT && !NEEDS_CLEANING.test(value)) return value;
  return value.replace(CONTROL, "\uFFFD").slice(0, MAX_TEXT).replace(LONE_SURROGATE, "\uFFFD");
}

/** `value` as stored (module comment); `undefined` (and what JSON cannot hold) becomes null. */
export function storedDetails(value: unknown): unknown {
  switch (typeof value) {
    case "string":
      return cleanText(value);
    case "number":
      return Number.isFinite(value) ? value + 0 : null;
    case "boolean":
      return value;
    case "bigint":
      // As JSON.stringify does: a caller must turn amounts into text first.
      throw new TypeError("Do not know how to serialize a BigInt");
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) {
        const items = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i += 1) items[i] = storedDetails(value[i]);
        return items;
      }
      // Stored as JSON writes a Date: its ISO text, untouched by cleaning.
      if (value instanceof Date) return value.toJSON();
      return storedObject(value as Record<string, unknown>);
    default:
      return null;
  }
}

function storedObject(record: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(record);
  // Most objects: keys that cleaning leaves alone, none of them `__proto__`; sorted in place.
  if (keys.every((key) => key !== "__proto__" && cleanText(key) === key)) {
    keys.sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const inner = record[key];
      if (inner !== undefined && typeof inner !== "function" && typeof inner !== "symbol") out[key] = storedDetails(inner);
    }
    return out;
  }
  // Cleaned keys first (two keys may clean alike: the later one wins, as it did in a copy).
  const members = new Map<string, unknown>();
  for (const key of keys) {
    const inner = record[key];
    if (inner === undefined || typeof inner === "function" || typeof inner === "symbol") {
      members.delete(cleanText(key));
      continue;
    }
    members.set(cleanText(key), inner);
  }
  // fromEntries defines own properties: a member named "__proto__" stays a member, as in
  // JSON, instead of setting the copy's prototype.
  return Object.fromEntries([...members.keys()].sort().map((key) => [key, storedDetails(members.get(key))]));
}
