import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { ActionFilter } from "../actions/action.repository";
import { AgentActionGate, type GatedContext } from "../graphql/agent-action-gate";
import type { GraphQLContext } from "../graphql/context";
import { LIMITS } from "../rate-limit/limits";
import { RateLimit } from "../rate-limit/rate-limit";
import { CapCounterEnum, PolicyInput } from "../schema/policy.types";
import type { CapCounter } from "../policy/policy-types";
import { MoneyScalar } from "../schema/money.scalar";
import {
  ActionSimulation,
  AgentAction,
  AgentActionConnection,
  AgentActionFilter,
  AgentActionInput,
  DecisionReplay,
  SpendReportView,
  WhatIfReport,
} from "../schema/agent-action.types";
import { Auth } from "../schema/directives";
import type { ActionViewer } from "../actions/action.service";
import { spendSight } from "../actions/spend-privacy";
import { actionCursor, actionView, decisionView, replayView, whatIfView } from "./agent-action.views";
import { timePage } from "./time-cursor";
import { toDraft } from "./policy.resolver";

function pageOf(first: number | null | undefined, after: string | null | undefined) {
  const page = timePage(first, after);
  return { limit: page.limit, after: page.after && { decidedAt: page.after.at, id: page.after.id } };
}

function filterOf(filter: AgentActionFilter | null | undefined): ActionFilter {
  if (!filter) return {};
  return {
    agentIds: filter.agentId ? [filter.agentId] : undefined,
    action: filter.action ?? undefined,
    statuses: filter.status ?? undefined,
    outcome: filter.decision ?? undefined,
    shadowOutcome: filter.shadowDecision ?? undefined,
    from: filter.from ?? undefined,
    to: filter.to ?? undefined,
  };
}

/** An agent sees no platform-wide spend (spend-privacy.ts). */
const AGENT_SIGHT = spendSight({ kind: "agent" });

async function person(ctx: GraphQLContext): Promise<Extract<ActionViewer, { kind: "user" }>> {
  return { kind: "user", user: await ctx.auth.require() };
}

async function connection(ctx: GraphQLContext, viewer: ActionViewer, filter: AgentActionFilter | null | undefined, first?: number | null, after?: string | null) {
  const page = await ctx.services.actions.list(viewer, filterOf(filter), pageOf(first, after));
  const edges = page.rows.map((row) => ({ cursor: actionCursor(row), node: actionView(row, spendSight(viewer)) }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.total };
}

/**
 * Agent actions. Agents submit, settle, cancel, dry-run and read their own; people read their
 * agents' (or everyone's, with agents:read, spend:read or actions:approve), approve and reject
 * held ones (actions:approve, never their own agents'), replay decisions and try policies.
 */
@Resolver()
export class AgentActionResolver {
  @Mutation(() => AgentAction, {
    description:
      "Submits an action for a decision. ALLOWED: the estimate is reserved on every counter (status RESERVED); settle or cancel it. PENDING_APPROVAL: held for an approver. DENIED: a POLICY_DENIED error carrying decisionId and reasons.",
  })
  @Auth({ agent: true })
  @AgentActionGate<{ input: AgentActionInput }>({ describe: ({ input }) => input, settle: "agent" })
  submitAgentAction(@Arg("input", () => AgentActionInput) _input: AgentActionInput, @Ctx() ctx: GatedContext): AgentAction {
    return actionView(ctx.agentAction!, AGENT_SIGHT);
  }

  @Mutation(() => AgentAction, { description: "Records the actual cost in place of the reservation. Above the estimate (overrun) only within the bound the policy chain sets (a rule's overrunAllowance or maxCostPerAction, else twice the estimate) and the room of the caps (plus their overrunAllowance); beyond it a POLICY_DENIED error naming the bound (extensions bound, allowed, requested), nothing charged. After expiry: settled late against the caps of now (settledLate)." })
  @Auth({ agent: true })
  async settleAgentAction(
    @Arg("id", () => ID) id: string,
    @Arg("actualCost", () => MoneyScalar) actualCost: bigint,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentAction> {
    return actionView(await ctx.services.actions.settle(await ctx.auth.agent(), id, actualCost, ctx.meta), AGENT_SIGHT);
  }

  @Mutation(() => AgentAction, { description: "Releases the reservation (or withdraws a held action)." })
  @Auth({ agent: true })
  async cancelAgentAction(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<AgentAction> {
    return actionView(await ctx.services.actions.cancel(await ctx.auth.agent(), id, ctx.meta), AGENT_SIGHT);
  }

  @Query(() => ActionSimulation, { description: "A dry run for the calling agent: the decision now. Nothing is charged or recorded." })
  @Auth({ agent: true })
  async simulateAgentAction(@Arg("input", () => AgentActionInput) input: AgentActionInput, @Ctx() ctx: GraphQLContext): Promise<ActionSimulation> {
    const { decision, at } = await ctx.services.actions.simulate({ kind: "agent", agent: await ctx.auth.agent() }, null, input);
    return { at, decision: decisionView(decision, AGENT_SIGHT), wouldBe: decision.wouldBe && decisionView(decision.wouldBe, AGENT_SIGHT) };
  }

  @Query(() => AgentActionConnection, { description: "The calling agent's own actions, newest first." })
  @Auth({ agent: true })
  async myAgentActions(
    @Arg("filter", () => AgentActionFilter, { nullable: true }) filter: AgentActionFilter | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentActionConnection> {
    return connection(ctx, { kind: "agent", agent: await ctx.auth.agent() }, filter, first, after);
  }

  @Query(() => SpendReportView, { description: "The calling agent's budgets: its spend in each window and the room left in each cap." })
  @Auth({ agent: true })
  async mySpend(@Ctx() ctx: GraphQLContext): Promise<SpendReportView> {
    return ctx.services.actions.spend({ kind: "agent", agent: await ctx.auth.agent() }, "AGENT", null);
  }

  @Query(() => AgentActionConnection, {
    description: "Agent actions, newest first: your agents'; everyone's with agents:read, spend:read or actions:approve.",
  })
  @Auth()
  async agentActions(
    @Arg("filter", () => AgentActionFilter, { nullable: true }) filter: AgentActionFilter | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentActionConnection> {
    return connection(ctx, await person(ctx), filter, first, after);
  }

  @Query(() => AgentAction)
  @Auth()
  async agentAction(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<AgentAction> {
    const viewer = await person(ctx);
    return actionView(await ctx.services.actions.get(viewer, id), spendSight(viewer));
  }

  @Query(() => ActionSimulation, { description: "A dry run for one of your agents (any agent with policies:read)." })
  @Auth()
  async simulateAgentActionFor(
    @Arg("agentId", () => ID) agentId: string,
    @Arg("input", () => AgentActionInput) input: AgentActionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ActionSimulation> {
    const viewer = await person(ctx);
    const { decision, at } = await ctx.services.actions.simulate(viewer, agentId, input);
    const sight = spendSight(viewer);
    return { at, decision: decisionView(decision, sight), wouldBe: decision.wouldBe && decisionView(decision.wouldBe, sight) };
  }

  @Query(() => DecisionReplay, { description: "Re-takes an action's recorded decision on its recorded policy versions, input and spend." })
  @Auth()
  async replayDecision(@Arg("actionId", () => ID) actionId: string, @Ctx() ctx: GraphQLContext): Promise<DecisionReplay> {
    const viewer = await person(ctx);
    return replayView(await ctx.services.actions.replay(viewer, actionId), spendSight(viewer));
  }

  @Query(() => WhatIfReport, {
    description:
      "Replays recorded actions (your agents'; everyone's with policies:read) with a proposed policy added, or in place of the policy `replaces`, and reports the decisions it would change.",
  })
  @Auth()
  @RateLimit(...LIMITS.whatIf)
  async whatIfPolicy(
    @Arg("policy", () => PolicyInput) policy: PolicyInput,
    @Arg("replaces", () => ID, { nullable: true }) replaces: string | null,
    @Arg("filter", () => AgentActionFilter, { nullable: true }) filter: AgentActionFilter | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WhatIfReport> {
    const viewer = await person(ctx);
    const report = await ctx.services.actions.whatIf(viewer.user, toDraft(policy), { replaces, filter: filterOf(filter) });
    return whatIfView(report, spendSight(viewer));
  }

  @Query(() => SpendReportView, {
    description:
      "Spend per window with each cap's room: per AGENT (subjectId: an agent of yours, any with spend:read), OWNER (you, anyone with spend:read), GLOBAL (spend:read).",
  })
  @Auth()
  async spendReport(
    @Arg("per", () => CapCounterEnum) per: CapCounter,
    @Arg("subjectId", () => ID, { nullable: true }) subjectId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SpendReportView> {
    return ctx.services.actions.spend(await person(ctx), per, subjectId);
  }

  @Mutation(() => AgentAction, {
    description:
      "Approves a held action: it is re-decided on the spend of now (the approval stands in for REQUIRE_APPROVAL) and its estimate reserved. Not for the agent's owner.",
  })
  @Auth({ permission: "actions:approve" })
  async approveAgentAction(
    @Arg("id", () => ID) id: string,
    @Arg("note", () => String, { nullable: true }) note: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentAction> {
    const viewer = await person(ctx);
    return actionView(await ctx.services.actions.approve(viewer.user, id, ctx.meta, note), spendSight(viewer));
  }

  @Mutation(() => AgentAction, { description: "Rejects a held action. Not for the agent's owner." })
  @Auth({ permission: "actions:approve" })
  async rejectAgentAction(
    @Arg("id", () => ID) id: string,
    @Arg("note", () => String, { nullable: true }) note: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentAction> {
    const viewer = await person(ctx);
    return actionView(await ctx.services.actions.reject(viewer.user, id, ctx.meta, note), spendSight(viewer));
  }
}
