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
import { planAuditScan } from "./audit-scan";
import { latestCheckpoint, recordCheckpoint } from "./audit-checkpoints";
import { systemClock, type Clock } from "../clock";

export interface AuditEventPage {
  edges: { cursor: string; node: AuditEventRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Counts every match: a pass over all of them, so only when a client asks (`totalCount`). */
  countAll(): Promise<number>;
}

export type AuditExportFormat = "ndjson" | "csv";

export interface AuditExport {
  /** The last seq the export covers: rows appended after it started are left out. */
  upToSeq: bigint;
  /** Pages of rows, oldest first; pull one page at a time (the consumer sets the pace). */
  pages: AsyncIterable<AuditEventRow[]>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Reading the audit trail: search, chain verification, export. */
export interface AuditService {
  /** Newest first, Relay-style: `first` (default 50, at most 200) rows after the `after` cursor. */
  search(
    principal: Principal,
    args: { filter?: AuditFilterInput | null; first?: number | null; after?: string | null },
  ): Promise<AuditEventPage>;
  /**
   * Walks the hash chain over a seq range and names the first broken link: from the first
   * row, from `fromSeq` (anchored by `afterHash`, the hash of the row before, when given), or
   * after the latest checkpoint (`fromCheckpoint`). A walk that started from a trusted point
   * (the first row, an anchor, a checkpoint) and checked out records a checkpoint where it ended.
   */
  verifyChain(
    principal: Principal,
    args: { fromSeq?: string | null; toSeq?: string | null; afterHash?: string | null; fromCheckpoint?: boolean | null },
  ): Promise<ChainVerification & { continuedAfterSeq: bigint | null }>;
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

export function createAuditService(deps: { db: Db; clock?: Clock; exportPageSize?: number }): AuditService {
  const clock = deps.clock ?? systemClock;
  const { db } = deps;
  const pageSize = deps.exportPageSize ?? EXPORT_PAGE_SIZE;

  async function* pagesOf(filter: AuditFilter, upToSeq: bigint): AsyncGenerator<AuditEventRow[]> {
    // Planned once for the whole export: every page reads from the same plan.
    const scan = await planAuditScan(db, filter);
    let afterSeq = 0n;
    for (;;) {
      const rows = await findAuditPageOldestFirst(db, scan, { limit: pageSize, afterSeq, upToSeq });
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
      // One plan for the page and, when selected, its count.
      const scan = await planAuditScan(db, filter);
      const page = await findAuditPageNewestFirst(db, scan, { first, beforeSeq });
      const edges = page.rows.map((node) => ({ cursor: encodeCursor(node.seq), node }));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        countAll: () => countAuditEvents(db, scan),
      };
    },

    async verifyChain(principal, args) {
      assertAllowed(principal, "audit:read");
      const fromSeq = parseSeq(args.fromSeq, "fromSeq");
      const toSeq = parseSeq(args.toSeq, "toSeq");
      if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) {
        throw new UserInputError("fromSeq must not be after toSeq", "fromSeq");
      }
      const afterHash = args.afterHash ?? undefined;
      if (afterHash !== undefined && !SHA256_HEX.test(afterHash)) throw new UserInputError("afterHash is the hash of an audit event (64 hex digits)", "afterHash");
      if (afterHash !== undefined && fromSeq === undefined) throw new UserInputError("afterHash anchors the walk from fromSeq: give both", "afterHash");
      if (args.fromCheckpoint && (fromSeq !== undefined || afterHash !== undefined)) {
        throw new UserInputError("fromCheckpoint starts after the latest checkpoint: not together with fromSeq or afterHash", "fromCheckpoint");
      }
      let start: { fromSeq?: bigint; afterHash?: string } = { fromSeq, afterHash };
      let continuedAfterSeq: bigint | null = afterHash !== undefined && fromSeq !== undefined ? fromSeq - 1n : null;
      if (args.fromCheckpoint) {
        const checkpoint = await latestCheckpoint(db, toSeq);
        if (checkpoint) {
          start = { fromSeq: checkpoint.seq + 1n, afterHash: checkpoint.hash };
          continuedAfterSeq = checkpoint.seq;
        }
      }
      const result = await verifyAuditChain(db, { ...start, toSeq });
      const trustedStart = start.fromSeq === undefined || start.afterHash !== undefined;
      if (result.ok && trustedStart && result.lastGood) await recordCheckpoint(db, result.lastGood, clock.now(), principal.userId);
      return { ...result, continuedAfterSeq };
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
