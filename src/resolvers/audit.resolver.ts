import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from "type-graphql";
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

function toVerificationView(result: ChainVerification & { continuedAfterSeq: bigint | null }): AuditChainVerification {
  const broken = result.firstBroken;
  return {
    ok: result.ok,
    checked: result.checked,
    firstBroken: broken && { seq: broken.seq.toString(), id: broken.id, reason: broken.reason as AuditChainBreak },
    lastGoodSeq: result.lastGood?.seq.toString() ?? null,
    lastGoodHash: result.lastGood?.hash ?? null,
    continuedAfterSeq: result.continuedAfterSeq?.toString() ?? null,
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
      "Walks the audit hash chain in seq order over [fromSeq, toSeq] (default: the whole trail) and names the first broken link. " +
      "A walk that starts at the first event, at an anchor (afterHash) or after the latest checkpoint (fromCheckpoint) and checks out records a checkpoint where it ended, " +
      "so a routine check with fromCheckpoint reads only the events appended since.",
  })
  @Auth({ permission: "audit:read" })
  async verifyAuditChain(
    @Arg("fromSeq", () => String, { nullable: true }) fromSeq: string | null | undefined,
    @Arg("toSeq", () => String, { nullable: true }) toSeq: string | null | undefined,
    @Arg("afterHash", () => String, {
      nullable: true,
      description: "The hash of the event before fromSeq (a lastGoodHash you kept): the walk must continue from it.",
    })
    afterHash: string | null | undefined,
    @Arg("fromCheckpoint", () => Boolean, {
      nullable: true,
      description: "Start after the latest checkpoint (at or before toSeq) instead of the first event; from the first event when there is none.",
    })
    fromCheckpoint: boolean | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditChainVerification> {
    const principal = await ctx.auth.require();
    const result = await ctx.services.audit.verifyChain(principal, { fromSeq, toSeq, afterHash, fromCheckpoint });
    return toVerificationView(result);
  }
}

/** A page's `totalCount`: counting every match costs a pass over all of them, so only when selected. */
@Resolver(() => AuditEventConnection)
export class AuditEventConnectionResolver {
  @FieldResolver(() => Int, { description: "Events matching the filter, over all pages." })
  totalCount(@Root() connection: AuditEventConnection): Promise<number> {
    return connection.countAll();
  }
}
