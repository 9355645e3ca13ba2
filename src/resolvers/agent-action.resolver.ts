import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { ActionFilter } from "../actions/action.repository";
import { UserInputError } from "../errors/errors";
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
import { actionCursor, actionView, decisionView, parseActionCursor, whatIfView } from "./agent-action.views";
import { toDraft } from "./policy.resolver";

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

function pageOf(first: number | null | undefined, after: string | null | undefined) {
  const limit = first ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new UserInputError(`first must be 1 to ${MAX_PAGE}`, "first");
  if (!after) return { limit };
  const cursor = parseActionCursor(after);
  if (!cursor) throw new UserInputError("Invalid cursor", "after");
  return { limit, after: cursor };
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

async function connection(ctx: GraphQLContext, viewer: Parameters<GraphQLContext["services"]["actions"]["list"]>[0], filter: AgentActionFilter | null | undefined, first?: number | null, after?: string | null) {
  const page = await ctx.services.actions.list(viewer, filterOf(filter), pageOf(first, after));
  const edges = page.rows.map((row) => ({ cursor: actionCursor(row), node: actionView(row) }));
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
    return actionView(ctx.agentAction!);
  }

  @Mutation(() => AgentAction, { description: "Records the actual cost in place of the reservation. Above the estimate (overrun) only within the bound the policy chain sets (a rule's overrunAllowance or maxCostPerAction, else twice the estimate) and the room of the caps (plus their overrunAllowance); beyond it a POLICY_DENIED error naming the bound (extensions bound, allowed, requested), nothing charged. After expiry: settled late against the caps of now (settledLate)." })
  @Auth({ agent: true })
  async settleAgentAction(
    @Arg("id", () => ID) id: string,
    @Arg("actualCost", () => MoneyScalar) actualCost: bigint,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentAction> {
    return actionView(await ctx.services.actions.settle(await ctx.auth.agent(), id, actualCost, ctx.meta));
  }

  @Mutation(() => AgentAction, { description: "Releases the reservation (or withdraws a held action)." })
  @Auth({ agent: true })
  async cancelAgentAction(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<AgentAction> {
    return actionView(await ctx.services.actions.cancel(await ctx.auth.agent(), id, ctx.meta));
  }

  @Query(() => ActionSimulation, { description: "A dry run for the calling agent: the decision now. Nothing is charged or recorded." })
  @Auth({ agent: true })
  async simulateAgentAction(@Arg("input", () => AgentActionInput) input: AgentActionInput, @Ctx() ctx: GraphQLContext): Promise<ActionSimulation> {
    const { decision, at } = await ctx.services.actions.simulate({ kind: "agent", agent: await ctx.auth.agent() }, null, input);
    return { at, decision: decisionView(decision), wouldBe: decision.wouldBe && decisionView(decision.wouldBe) };
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
    return connection(ctx, { kind: "user", user: await ctx.auth.require() }, filter, first, after);
  }

  @Query(() => AgentAction)
  @Auth()
  async agentAction(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<AgentAction> {
    return actionView(await ctx.services.actions.get({ kind: "user", user: await ctx.auth.require() }, id));
  }

  @Query(() => ActionSimulation, { description: "A dry run for one of your agents (any agent with policies:read)." })
  @Auth()
  async simulateAgentActionFor(
    @Arg("agentId", () => ID) agentId: string,
    @Arg("input", () => AgentActionInput) input: AgentActionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ActionSimulation> {
    const { decision, at } = await ctx.services.actions.simulate({ kind: "user", user: await ctx.auth.require() }, agentId, input);
    return { at, decision: decisionView(decision), wouldBe: decision.wouldBe && decisionView(decision.wouldBe) };
  }

  @Query(() => DecisionReplay, { description: "Re-takes an action's recorded decision on its recorded policy versions, input and spend." })
  @Auth()
  async replayDecision(@Arg("actionId", () => ID) actionId: string, @Ctx() ctx: GraphQLContext): Promise<DecisionReplay> {
    const result = await ctx.services.actions.replay({ kind: "user", user: await ctx.auth.require() }, actionId);
    return result as DecisionReplay;
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
    const report = await ctx.services.actions.whatIf(await ctx.auth.require(), toDraft(policy), { replaces, filter: filterOf(filter) });
    return whatIfView(report);
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
    return ctx.services.actions.spend({ kind: "user", user: await ctx.auth.require() }, per, subjectId);
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
    return actionView(await ctx.services.actions.approve(await ctx.auth.require(), id, ctx.meta, note));
  }

  @Mutation(() => AgentAction, { description: "Rejects a held action. Not for the agent's owner." })
  @Auth({ permission: "actions:approve" })
  async rejectAgentAction(
    @Arg("id", () => ID) id: string,
    @Arg("note", () => String, { nullable: true }) note: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentAction> {
    return actionView(await ctx.services.actions.reject(await ctx.auth.require(), id, ctx.meta, note));
  }
}
