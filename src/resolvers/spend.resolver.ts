import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { AdjustmentRow } from "../actions/spend-adjustments";
import type { GraphQLContext } from "../graphql/context";
import { AgentAction } from "../schema/agent-action.types";
import { spendSight } from "../actions/spend-privacy";
import { Auth } from "../schema/directives";
import { SpendAdjustment, SpendAdjustmentConnection, SpendAdjustmentFilter, SpendAdjustmentInput } from "../schema/spend-adjustment.types";
import { actionView } from "./agent-action.views";
import { encodeTimeCursor, timePage } from "./time-cursor";

const cursorOf = (row: AdjustmentRow) => encodeTimeCursor(row.createdAt, row.id);

function pageOf(first: number | null, after: string | null) {
  const page = timePage(first, after);
  return { limit: page.limit, after: page.after && { createdAt: page.after.at, id: page.after.id } };
}

function adjustmentView(row: AdjustmentRow): SpendAdjustment {
  return {
    id: row.id,
    counter: row.counterKey,
    per: row.per,
    subject: row.subject,
    window: row.window,
    windowStart: row.windowStart,
    kind: row.amount < 0n ? "CREDIT" : "DEBIT",
    amount: row.amount,
    reason: row.reason,
    actorId: row.actorId,
    createdAt: row.createdAt,
  };
}

/**
 * Correcting spend (`spend:write`): releasing any agent's reservation or hold, and posting
 * credits and debits on spend counters; reading the adjustments (`spend:read`).
 */
@Resolver()
export class SpendResolver {
  @Mutation(() => AgentAction, {
    description:
      "Releases any agent's reservation (or withdraws its held action), with a reason: for an agent that cannot cancel it itself. Status CANCELLED; audited as agent.action.released.",
  })
  @Auth({ permission: "spend:write" })
  async releaseAgentAction(@Arg("id", () => ID) id: string, @Arg("reason", () => String) reason: string, @Ctx() ctx: GraphQLContext): Promise<AgentAction> {
    const user = await ctx.auth.require();
    return actionView(await ctx.services.actions.release(user, id, reason, ctx.meta), spendSight({ kind: "user", user }));
  }

  @Mutation(() => SpendAdjustment, {
    description: "Posts a credit or debit on one spend counter and window, with a reason; the next decisions and spend reports read it. Audited as spend.adjusted.",
  })
  @Auth({ permission: "spend:write" })
  async adjustSpend(@Arg("input", () => SpendAdjustmentInput) input: SpendAdjustmentInput, @Ctx() ctx: GraphQLContext): Promise<SpendAdjustment> {
    const row = await ctx.services.actions.adjust(
      await ctx.auth.require(),
      { per: input.per, subjectId: input.subjectId ?? null, window: input.window, at: input.at ?? null, kind: input.kind, amount: input.amount, reason: input.reason },
      ctx.meta,
    );
    return adjustmentView(row);
  }

  @Query(() => SpendAdjustmentConnection, { description: "Spend adjustments, newest first." })
  @Auth({ permission: "spend:read" })
  async spendAdjustments(
    @Arg("filter", () => SpendAdjustmentFilter, { nullable: true }) filter: SpendAdjustmentFilter | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SpendAdjustmentConnection> {
    const subjectId = filter?.subjectId ?? (filter?.per === "GLOBAL" ? "global" : undefined);
    const page = await ctx.services.actions.adjustments(
      await ctx.auth.require(),
      { per: filter?.per ?? undefined, subjectId, window: filter?.window ?? undefined, from: filter?.from ?? undefined, to: filter?.to ?? undefined },
      pageOf(first, after),
    );
    const edges = page.rows.map((row) => ({ cursor: cursorOf(row), node: adjustmentView(row) }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.total };
  }
}
