import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { AgentAction } from "../schema/agent-action.types";
import { AuditEvent } from "../schema/audit.types";
import { Run } from "../schema/run.types";
import { runView, runViewer } from "./run.views";

const RUN_OR_NULL = "The run, when the caller may see it (its owner, its agent, runs:read); null otherwise, exactly as for no run.";

/** The way from an action to its run: the run's own access rule, null where it fails. */
@Resolver(() => AgentAction)
export class AgentActionRunResolver {
  @FieldResolver(() => Run, { nullable: true, description: RUN_OR_NULL })
  async run(@Root() action: AgentAction, @Ctx() ctx: GraphQLContext): Promise<Run | null> {
    const found = await ctx.services.runs.linked(await runViewer(ctx), action.runId);
    return found && runView(found);
  }
}

/** The way from an audit event (of a run, or of one of its actions) to the run. */
@Resolver(() => AuditEvent)
export class AuditEventRunResolver {
  @FieldResolver(() => Run, { nullable: true, description: RUN_OR_NULL })
  async run(@Root() event: AuditEvent, @Ctx() ctx: GraphQLContext): Promise<Run | null> {
    const found = await ctx.services.runs.ofAuditTarget(await runViewer(ctx), { type: event.targetType, id: event.targetId });
    return found && runView(found);
  }
}
