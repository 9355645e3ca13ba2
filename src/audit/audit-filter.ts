import { UserInputError } from "../errors/errors";
import { isStorableDate, isStorableInt8, isStorableText } from "../validation/storable";

/**
 * Audit search input, as the GraphQL API and the HTTP export both take it, and its checks.
 * Pure: every check throws `UserInputError` naming the offending field, never echoing it.
 */

export const ACTOR_TYPES = ["user", "agent", "system", "anonymous"] as const;
export const OUTCOMES = ["success", "failure", "denied"] as const;
export type AuditActorTypeValue = (typeof ACTOR_TYPES)[number];
export type AuditOutcomeValue = (typeof OUTCOMES)[number];

/** A checked filter: every member narrows the rows (they combine with AND). */
export interface AuditFilter {
  actorId?: string;
  actorType?: AuditActorTypeValue;
  /** Exact action name, or every action under a prefix when written `auth.*`. */
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: AuditOutcomeValue;
  /** Inclusive lower bound on occurredAt. */
  from?: Date;
  /** Exclusive upper bound on occurredAt. */
  to?: Date;
}

/** The filter as a caller sends it: nulls allowed, nothing checked yet. */
export type AuditFilterInput = { [K in keyof AuditFilter]?: AuditFilter[K] | null };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_FILTER_TEXT = 512;
const ACTION_PATTERN = /^[^*]+\*?$|^\*$/;

function text(value: string | null | undefined, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_FILTER_TEXT) {
    throw new UserInputError(`${field} must be 1 to ${MAX_FILTER_TEXT} characters`, field);
  }
  if (!isStorableText(value)) throw new UserInputError(`${field} cannot contain NUL characters or unpaired surrogates`, field);
  return value;
}

function date(value: Date | null | undefined, field: string): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (!(value instanceof Date) || !isStorableDate(value)) throw new UserInputError(`${field} must be a date-time in the years 1 to 9999`, field);
  return value;
}

/**
 * Checks a filter; `from` after `to` is an error, a wildcard is only allowed at the end of
 * `action`. Errors name `<fieldPrefix>.<member>` (just `<member>` when the prefix is empty).
 */
export function parseAuditFilter(input: AuditFilterInput | null | undefined, fieldPrefix = "filter"): AuditFilter {
  if (!input) return {};
  const field = (name: string) => (fieldPrefix ? `${fieldPrefix}.${name}` : name);
  const filter: AuditFilter = {
    actorId: text(input.actorId, field("actorId")),
    targetType: text(input.targetType, field("targetType")),
    targetId: text(input.targetId, field("targetId")),
    action: text(input.action, field("action")),
    from: date(input.from, field("from")),
    to: date(input.to, field("to")),
  };
  if (input.actorType !== null && input.actorType !== undefined) {
    if (!ACTOR_TYPES.includes(input.actorType)) throw new UserInputError("Unknown actor type", field("actorType"));
    filter.actorType = input.actorType;
  }
  if (input.outcome !== null && input.outcome !== undefined) {
    if (!OUTCOMES.includes(input.outcome)) throw new UserInputError("Unknown outcome", field("outcome"));
    filter.outcome = input.outcome;
  }
  if (filter.action !== undefined && !ACTION_PATTERN.test(filter.action)) {
    throw new UserInputError("action is an action name, or a prefix followed by * (like auth.*)", field("action"));
  }
  if (filter.action === "*") filter.action = undefined;
  if (filter.from && filter.to && filter.from.getTime() > filter.to.getTime()) {
    throw new UserInputError("from must not be after to", field("from"));
  }
  for (const key of Object.keys(filter) as (keyof AuditFilter)[]) if (filter[key] === undefined) delete filter[key];
  return filter;
}

/** The prefix of a wildcard action (`auth.*` → `auth.`), or undefined for an exact name. */
export function actionPrefix(action: string): string | undefined {
  return action.endsWith("*") ? action.slice(0, -1) : undefined;
}

/** Opaque cursor: base64url of the row's seq. */
export function encodeCursor(seq: bigint): string {
  return Buffer.from(seq.toString(), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, field = "after"): bigint {
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[1-9][0-9]{0,18}$/.test(decoded) || !isStorableInt8(BigInt(decoded)) || encodeCursor(BigInt(decoded)) !== cursor) {
    throw new UserInputError("Invalid cursor", field);
  }
  return BigInt(decoded);
}

export function parsePageSize(first: number | null | undefined, field = "first"): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new UserInputError(`first must be between 0 and ${MAX_PAGE_SIZE}`, field);
  }
  return first;
}

/** A seq given as a string of digits (GraphQL has no 64-bit integer). */
export function parseSeq(value: string | null | undefined, field: string): bigint | undefined {
  if (value === null || value === undefined) return undefined;
  if (!/^[0-9]{1,19}$/.test(value) || !isStorableInt8(BigInt(value))) {
    throw new UserInputError(`${field} must be a sequence number`, field);
  }
  return BigInt(value);
}
