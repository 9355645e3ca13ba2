import { GraphQLJSON } from "graphql-scalars";
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { spendSight } from "../actions/spend-privacy";
import type { GraphQLContext } from "../graphql/context";
import { UserInputError } from "../errors/errors";
import { AgentAction, AgentActionConnection } from "../schema/agent-action.types";
import { Auth } from "../schema/directives";
import { Run, RunConnection, RunEventConnection, RunFilterInput, RunResultEnum, RunSpend, StartRunInput, type RunResult } from "../schema/run.types";
import { actionCursor, actionView } from "./agent-action.views";
import { logPage, runCursor, runEventView, runFilterOf, runView, runViewer, seqCursor } from "./run.views";
import { timePage } from "./time-cursor";

/**
 * Runs. People start runs for their own agents and agents for themselves; both read, finish,
 * cancel and rerun their runs (`orAgent`: an agent key passes, the service keeps it to its
 * own runs). runs:read sees everyone's, runs:write cancels any. Nested fields answer only
 * those who may see the run they hang from.
 */
@Resolver(() => Run)
export class RunResolver {
  @Mutation(() => Run, { description: "Starts a run: by a person for one of their agents (agentId), or by an agent for itself. Audited as run.started." })
  @Auth({ orAgent: true })
  async startRun(@Arg("input", () => StartRunInput) input: StartRunInput, @Ctx() ctx: GraphQLContext): Promise<Run> {
    return runView(await ctx.services.runs.start(await runViewer(ctx), input, ctx.meta));
  }

  @Mutation(() => Run, {
    description: "The agent (or the owner) reports how the run ended. The run then takes no new actions and its held actions are withdrawn. The same report again returns the run; another is a CONFLICT.",
  })
  @Auth({ orAgent: true })
  async finishRun(
    @Arg("id", () => ID) id: string,
    @Arg("status", () => RunResultEnum) status: RunResult,
    @Arg("output", () => GraphQLJSON, { nullable: true }) output: unknown,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Run> {
    return runView(await ctx.services.runs.finish(await runViewer(ctx), id, status, output, ctx.meta));
  }

  @Mutation(() => Run, { description: "Cancels a running run (its owner, its agent, or runs:write); its held actions are withdrawn. Cancelling again returns it." })
  @Auth({ orAgent: true })
  async cancelRun(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Run> {
    return runView(await ctx.services.runs.cancel(await runViewer(ctx), id, ctx.meta));
  }

  @Mutation(() => Run, { description: "Starts a new run with the input of run `id` (no thread id), linked to it through rerunOf. By the run's owner or its agent." })
  @Auth({ orAgent: true })
  async rerun(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Run> {
    return runView(await ctx.services.runs.rerun(await runViewer(ctx), id, ctx.meta));
  }

  @Query(() => Run, { description: "One run, by id or by your thread id (exactly one of them). Another user's run is NOT_FOUND unless you hold runs:read." })
  @Auth({ orAgent: true })
  async run(
    @Arg("id", () => ID, { nullable: true }) id: string | null,
    @Arg("threadId", () => String, { nullable: true }) threadId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Run> {
    if ((id === null || id === undefined) === (threadId === null || threadId === undefined)) throw new UserInputError("Give either id or threadId", "id");
    const viewer = await runViewer(ctx);
    return runView(id ? await ctx.services.runs.get(viewer, id) : await ctx.services.runs.byThread(viewer, threadId as string));
  }

  @Query(() => RunConnection, { description: "Runs, newest first: yours (an agent: its own); everyone's with runs:read." })
  @Auth({ orAgent: true })
  async runs(
    @Arg("filter", () => RunFilterInput, { nullable: true }) filter: RunFilterInput | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RunConnection> {
    const page = timePage(first, after);
    const result = await ctx.services.runs.list(await runViewer(ctx), runFilterOf(filter), page);
    const edges = result.rows.map((row) => ({ cursor: runCursor(row), node: runView(row) }));
    return { edges, pageInfo: { hasNextPage: result.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: result.total };
  }

  @FieldResolver(() => AgentActionConnection, { description: "The actions that named this run, newest first." })
  async actions(
    @Root() run: Run,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentActionConnection> {
    const viewer = await runViewer(ctx);
    const page = timePage(first, after);
    const result = await ctx.services.runs.actions(viewer, run, { limit: page.limit, after: page.after && { decidedAt: page.after.at, id: page.after.id } });
    const edges = result.rows.map((row) => ({ cursor: actionCursor(row), node: actionView(row, spendSight(viewer)) }));
    return { edges, pageInfo: { hasNextPage: result.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: result.total };
  }

  @FieldResolver(() => [AgentAction], { description: "Its actions held for an approver right now (approve or reject them with approveAgentAction / rejectAgentAction)." })
  async pendingApprovals(@Root() run: Run, @Ctx() ctx: GraphQLContext): Promise<AgentAction[]> {
    const viewer = await runViewer(ctx);
    return (await ctx.services.runs.pendingApprovals(viewer, run)).map((row) => actionView(row, spendSight(viewer)));
  }

  @FieldResolver(() => RunSpend)
  async spend(@Root() run: Run, @Ctx() ctx: GraphQLContext): Promise<RunSpend> {
    return ctx.services.runs.spend(await runViewer(ctx), run);
  }

  @FieldResolver(() => RunEventConnection, { description: "The run's log: its own audit events and those of its actions, newest first." })
  async auditEvents(
    @Root() run: Run,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RunEventConnection> {
    const viewer = await runViewer(ctx);
    const result = await ctx.services.runs.log(viewer, run, logPage(first, after));
    const edges = result.rows.map((row) => ({ cursor: seqCursor(row.seq), node: runEventView(row, viewer) }));
    return { edges, pageInfo: { hasNextPage: result.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: result.total };
  }

  @FieldResolver(() => Run, { nullable: true, description: "The run this one re-ran; null for a first run." })
  async rerunOf(@Root() run: Run, @Ctx() ctx: GraphQLContext): Promise<Run | null> {
    const found = await ctx.services.runs.linked(await runViewer(ctx), run.rerunOfId);
    return found && runView(found);
  }

  @FieldResolver(() => [Run], { description: "Runs started by rerun of this one, oldest first." })
  async reruns(@Root() run: Run, @Ctx() ctx: GraphQLContext): Promise<Run[]> {
    return (await ctx.services.runs.reruns(await runViewer(ctx), run)).map(runView);
  }
}
