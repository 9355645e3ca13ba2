import type { AuditFilter } from "../../src/audit/audit-filter";
import type { auditEvents } from "../../src/db/schema";

/**
 * The audit filter by its plain definition, for tests to hold the search to: every member
 * narrows (AND), an action ending in `*` is a prefix of characters, times are [from, to).
 */

/** A filter as a GraphQL client sends it (enum values upper case, times as ISO text). */
export interface AuditFilterVariables {
  actorId?: string;
  actorType?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

type Row = typeof auditEvents.$inferSelect;

export function matchesAuditFilter(row: Row, filter: AuditFilterVariables): boolean {
  const prefix = filter.action?.endsWith("*") ? filter.action.slice(0, -1) : undefined;
  return (
    (filter.actorId === undefined || row.actorId === filter.actorId) &&
    (filter.actorType === undefined || row.actorType === filter.actorType.toLowerCase()) &&
    (filter.action === undefined || (prefix !== undefined ? row.action.startsWith(prefix) : row.action === filter.action)) &&
    (filter.targetType === undefined || row.targetType === filter.targetType) &&
    (filter.targetId === undefined || row.targetId === filter.targetId) &&
    (filter.outcome === undefined || row.outcome === filter.outcome.toLowerCase()) &&
    (filter.from === undefined || row.occurredAt.getTime() >= Date.parse(filter.from)) &&
    (filter.to === undefined || row.occurredAt.getTime() < Date.parse(filter.to))
  );
}

/** The same filter as the service takes it once checked (`parseAuditFilter`'s output). */
export function checkedAuditFilter(filter: AuditFilterVariables): AuditFilter {
  const checked: AuditFilter = {
    actorId: filter.actorId,
    actorType: filter.actorType?.toLowerCase() as AuditFilter["actorType"],
    action: filter.action,
    targetType: filter.targetType,
    targetId: filter.targetId,
    outcome: filter.outcome?.toLowerCase() as AuditFilter["outcome"],
    from: filter.from === undefined ? undefined : new Date(filter.from),
    to: filter.to === undefined ? undefined : new Date(filter.to),
  };
  for (const key of Object.keys(checked) as (keyof AuditFilter)[]) if (checked[key] === undefined) delete checked[key];
  return checked;
}
