import type { DbOrTx } from "../db/database";
import { auditEvents } from "../db/schema";
import type { RequestMeta } from "../request-meta";
import type { AuditAction } from "./audit-actions";

export type AuditActor =
  | { type: "user"; id: string }
  | { type: "agent"; id: string }
  | { type: "system"; id?: string }
  | { type: "anonymous" };

export interface AuditEntry {
  actor: AuditActor;
  action: AuditAction;
  outcome: "success" | "failure" | "denied";
  target?: { type: string; id: string };
  details?: Record<string, unknown>;
}

const MAX_TEXT = 512;
// PostgreSQL text and jsonb cannot hold NUL; other control characters only hide things from reviewers.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const clean = (value: string) => value.replace(CONTROL, "\uFFFD").slice(0, MAX_TEXT);
const clip = (value: string | null) => (value === null ? null : clean(value));

/** Details as stored: strings cleaned and clipped, structure kept. */
function cleanDetails(value: unknown): unknown {
  if (typeof value === "string") return clean(value);
  if (Array.isArray(value)) return value.map(cleanDetails);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [clean(key), cleanDetails(inner)]));
  }
  return value;
}

/**
 * Writes one audit row with the caller's transaction, so the row commits with the change it
 * describes or not at all. Failures propagate: a change that cannot be audited does not happen.
 * Callers pass details free of secrets; nothing here can tell a secret from a value.
 */
export async function recordAudit(tx: DbOrTx, meta: RequestMeta, entry: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    actorType: entry.actor.type,
    actorId: "id" in entry.actor ? (entry.actor.id ?? null) : null,
    action: entry.action,
    outcome: entry.outcome,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    ip: clip(meta.ip),
    userAgent: clip(meta.userAgent),
    requestId: clip(meta.requestId),
    details: cleanDetails(entry.details ?? {}) as Record<string, unknown>,
  });
}
