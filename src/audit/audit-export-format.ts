import type { AuditEventRow } from "./audit-query";

/**
 * How an audit row is written into an export file. Field names and enum spellings are the
 * GraphQL API's (`seq` as a string, `actorType: USER`, `outcome: SUCCESS`), so an export and
 * an `audit` query over the same filter hold the same records. Pure.
 */
export interface AuditExportRecord {
  seq: string;
  id: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string | null;
  hash: string | null;
}

export const EXPORT_COLUMNS = [
  "seq",
  "id",
  "occurredAt",
  "actorType",
  "actorId",
  "action",
  "targetType",
  "targetId",
  "outcome",
  "ip",
  "userAgent",
  "requestId",
  "details",
  "prevHash",
  "hash",
] as const satisfies readonly (keyof AuditExportRecord)[];

export function toExportRecord(row: AuditEventRow): AuditExportRecord {
  return {
    seq: row.seq.toString(),
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    actorType: row.actorType.toUpperCase(),
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome.toUpperCase(),
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** One NDJSON line: the record as JSON (which escapes every line break), then "\n". */
export function ndjsonLine(record: AuditExportRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Characters that make a spreadsheet read a cell as a formula (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled.
 * A cell a spreadsheet would run as a formula is prefixed with a single quote first, so the
 * CSV is for reading, not for re-verifying hashes (use NDJSON for that).
 */
export function csvCell(value: string | null): string {
  if (value === null) return "";
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvHeader(): string {
  return `${EXPORT_COLUMNS.join(",")}\r\n`;
}

/** One CSV record, CRLF-terminated; `details` is a JSON string column. */
export function csvLine(record: AuditExportRecord): string {
  const cells = EXPORT_COLUMNS.map((column) => {
    const value = record[column];
    return csvCell(column === "details" ? JSON.stringify(value) : (value as string | null));
  });
  return `${cells.join(",")}\r\n`;
}
