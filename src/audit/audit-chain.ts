import crypto from "node:crypto";

/**
 * Tamper evidence for the audit trail: every row carries `hash = SHA-256(prev_hash ||
 * canonical(content))` and the `prev_hash` of the row before it in seq order, so changing,
 * removing or inserting a row anywhere breaks the chain at that point or at the next row.
 *
 * The hashed content excludes `seq` (assigned by the identity column during the insert, so
 * unknown when the hash is computed, and rows cannot be updated afterwards); the chain order
 * is checked through `prev_hash` instead. `id` and `occurredAt` are chosen by the recorder
 * before the insert so they can be hashed.
 *
 * Pure: no I/O, no clock. The recorder and the verifier both go through `hashAuditContent`.
 */

/** Marks the canonical form; a future change of format gets a new tag, old rows keep theirs. */
export const CHAIN_FORMAT = "audit-v1";

/** What a row's hash covers, as stored (lowercase enum values, millisecond timestamps). */
export interface AuditContent {
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: unknown;
}

/** JSON value with object keys sorted at every depth; `undefined` members dropped as JSON does. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => [key, sortKeys(record[key])]),
    );
  }
  return value;
}

/**
 * A JSON value exactly as it comes back from a jsonb column: Dates become ISO strings,
 * `undefined` members vanish, NaN becomes null. The recorder stores this form, so the
 * content it hashes is the content the verifier reads.
 */
export function asStoredJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/**
 * The canonical serialization: a JSON array of the fields in a fixed order, details with
 * keys sorted recursively. Field order, not key order, carries meaning, so two writers can
 * never disagree about it.
 */
export function canonicalAuditContent(content: AuditContent): string {
  return canonicalOfStored({ ...content, details: sortKeys(asStoredJson(content.details)) });
}

/**
 * `canonicalAuditContent` of content whose details are already in their stored, key-sorted
 * form (the recorder's, audit/stored-details.ts): the same text without copying them twice.
 */
export function canonicalOfStored(content: AuditContent): string {
  return JSON.stringify([
    CHAIN_FORMAT,
    content.id,
    content.occurredAt.toISOString(),
    content.actorType,
    content.actorId,
    content.action,
    content.targetType,
    content.targetId,
    content.outcome,
    content.ip,
    content.userAgent,
    content.requestId,
    content.details,
  ]);
}

/** SHA-256 hex over the previous hash ("" for the first row) followed by the canonical content. */
export function hashAuditContent(prevHash: string | null, content: AuditContent): string {
  return crypto
    .createHash("sha256")
    .update(prevHash ?? "", "utf8")
    .update(canonicalAuditContent(content), "utf8")
    .digest("hex");
}

export type ChainBreakReason = "hash_mismatch" | "prev_mismatch" | "unchained";

export interface ChainedRow extends AuditContent {
  seq: bigint;
  prevHash: string | null;
  hash: string | null;
}

/**
 * Checks one row against the hash expected before it. Order matters: a row without a hash
 * was never chained; a row whose prev_hash is not the previous row's hash means a row was
 * removed, inserted or reordered before it; a row whose own hash does not match was edited.
 */
export function checkChainedRow(expectedPrev: string | null, row: ChainedRow): ChainBreakReason | null {
  if (row.hash === null) return "unchained";
  if (row.prevHash !== expectedPrev) return "prev_mismatch";
  if (hashAuditContent(row.prevHash, row) !== row.hash) return "hash_mismatch";
  return null;
}
