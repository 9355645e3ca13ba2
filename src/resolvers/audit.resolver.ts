import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import type { AuditEventRow, ChainVerification } from "../audit/audit-query";
import type { GraphQLContext } from "../graphql/context";
import {
  AuditActorType,
  AuditChainBreak,
  AuditChainVerification,
  AuditEvent,
  AuditEventConnection,
  AuditFilter,
  AuditOutcome,
} from "../schema/audit.types";
import { Auth } from "../schema/directives";

function toAuditEventView(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    seq: row.seq.toString(),
    occurredAt: row.occurredAt,
    actorType: row.actorType as AuditActorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome as AuditOutcome,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    details: row.details,
    hash: row.hash,
    prevHash: row.prevHash,
  };
}

function toVerificationView(result: ChainVerification): AuditChainVerification {
  const broken = result.firstBroken;
  return {
    ok: result.ok,
    checked: result.checked,
    firstBroken: broken && { seq: broken.seq.toString(), id: broken.id, reason: broken.reason as AuditChainBreak },
    lastGoodSeq: result.lastGood?.seq.toString() ?? null,
    lastGoodHash: result.lastGood?.hash ?? null,
  };
}

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description: "The audit trail, newest first, narrowed by the filter; `first` is 50 by default, at most 200.",
  })
  @Auth({ permission: "audit:read" })
  async audit(
    @Arg("filter", () => AuditFilter, { nullable: true }) filter: AuditFilter | null | undefined,
    @Arg("first", () => Int, { nullable: true }) first: number | null | undefined,
    @Arg("after", () => String, { nullable: true }) after: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditEventConnection> {
    const principal = await ctx.auth.require();
    const page = await ctx.services.audit.search(principal, { filter, first, after });
    return { ...page, edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toAuditEventView(edge.node) })) };
  }

  @Query(() => AuditChainVerification, {
    description:
      "Walks the audit hash chain in seq order over [fromSeq, toSeq] (default: the whole trail) and names the first broken link.",
  })
  @Auth({ permission: "audit:read" })
  async verifyAuditChain(
    @Arg("fromSeq", () => String, { nullable: true }) fromSeq: string | null | undefined,
    @Arg("toSeq", () => String, { nullable: true }) toSeq: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditChainVerification> {
    const principal = await ctx.auth.require();
    return toVerificationView(await ctx.services.audit.verifyChain(principal, { fromSeq, toSeq }));
  }
}
