import { hasPermission, type Principal } from "../auth/principal";
import type { Permission } from "../auth/permissions";
import type { Db } from "../db/database";
import { ForbiddenError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { AuditAction } from "./audit-actions";
import {
  decodeCursor,
  encodeCursor,
  parseAuditFilter,
  parsePageSize,
  parseSeq,
  type AuditFilter,
  type AuditFilterInput,
} from "./audit-filter";
import {
  countAuditEvents,
  findAuditPageNewestFirst,
  findAuditPageOldestFirst,
  headSeq,
  verifyAuditChain,
  type AuditEventRow,
  type ChainVerification,
} from "./audit-query";
import { recordAudit } from "./audit-recorder";

export interface AuditEventPage {
  edges: { cursor: string; node: AuditEventRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export type AuditExportFormat = "ndjson" | "csv";

export interface AuditExport {
  /** The last seq the export covers: rows appended after it started are left out. */
  upToSeq: bigint;
  /** Pages of rows, oldest first; pull one page at a time (the consumer sets the pace). */
  pages: AsyncIterable<AuditEventRow[]>;
}

/** Reading the audit trail: search, chain verification, export. */
export interface AuditService {
  /** Newest first, Relay-style: `first` (default 50, at most 200) rows after the `after` cursor. */
  search(
    principal: Principal,
    args: { filter?: AuditFilterInput | null; first?: number | null; after?: string | null },
  ): Promise<AuditEventPage>;
  /** Walks the hash chain over a seq range and names the first broken link. */
  verifyChain(principal: Principal, args: { fromSeq?: string | null; toSeq?: string | null }): Promise<ChainVerification>;
  /**
   * Checks `audit:export`, records the export (or the refusal) in the trail, then hands
   * back the rows matching the filter as pages. The record commits before any row is sent.
   */
  beginExport(principal: Principal, meta: RequestMeta, args: { filter: AuditFilter; format: AuditExportFormat }): Promise<AuditExport>;
}

export const EXPORT_PAGE_SIZE = 500;

function assertAllowed(principal: Principal, permission: Permission): void {
  if (!hasPermission(principal, permission)) throw new ForbiddenError(`Requires permission ${permission}`);
}

export function createAuditService(deps: { db: Db; exportPageSize?: number }): AuditService {
  const { db } = deps;
  const pageSize = deps.exportPageSize ?? EXPORT_PAGE_SIZE;

  async function* pagesOf(filter: AuditFilter, upToSeq: bigint): AsyncGenerator<AuditEventRow[]> {
    let afterSeq = 0n;
    for (;;) {
      const rows = await findAuditPageOldestFirst(db, filter, { limit: pageSize, afterSeq, upToSeq });
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      afterSeq = (rows[rows.length - 1] as AuditEventRow).seq;
    }
  }

  return {
    async search(principal, args) {
      assertAllowed(principal, "audit:read");
      const filter = parseAuditFilter(args.filter);
      const first = parsePageSize(args.first);
      const beforeSeq = args.after === null || args.after === undefined ? undefined : decodeCursor(args.after);
      const [page, totalCount] = await Promise.all([
        findAuditPageNewestFirst(db, filter, { first, beforeSeq }),
        countAuditEvents(db, filter),
      ]);
      const edges = page.rows.map((node) => ({ cursor: encodeCursor(node.seq), node }));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount,
      };
    },

    async verifyChain(principal, args) {
      assertAllowed(principal, "audit:read");
      const fromSeq = parseSeq(args.fromSeq, "fromSeq");
      const toSeq = parseSeq(args.toSeq, "toSeq");
      if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) {
        throw new UserInputError("fromSeq must not be after toSeq", "fromSeq");
      }
      return verifyAuditChain(db, { fromSeq, toSeq });
    },

    async beginExport(principal, meta, args) {
      const filter = { ...args.filter, from: args.filter.from?.toISOString(), to: args.filter.to?.toISOString() };
      const actor = { type: "user" as const, id: principal.userId };
      if (!hasPermission(principal, "audit:export")) {
        await recordAudit(db, meta, { actor, action: AuditAction.AUDIT_EXPORTED, outcome: "denied", details: { format: args.format, filter } });
        throw new ForbiddenError("Requires permission audit:export");
      }
      const upToSeq = await headSeq(db);
      await recordAudit(db, meta, {
        actor,
        action: AuditAction.AUDIT_EXPORTED,
        outcome: "success",
        details: { format: args.format, filter, upToSeq: upToSeq.toString() },
      });
      return { upToSeq, pages: pagesOf(args.filter, upToSeq) };
    },
  };
}
