import { createMethodMiddlewareDecorator } from "type-graphql";
import type { ActionInput } from "../actions/action-input";
import type { ActionRow } from "../actions/action.repository";
import type { GraphQLContext } from "./context";

/** The decided action of a gated mutation, for its resolver. */
export interface GatedContext extends GraphQLContext {
  agentAction?: ActionRow;
}

export interface GateOptions<Args> {
  /** The action as the policy engine sees it, from the mutation's arguments. */
  describe(args: Args): ActionInput;
  /**
   * Who settles: "agent" (the agent reports the actual cost later, as after
   * submitAgentAction) or "on-success" (the mutation's work is the action: the estimate is
   * charged when the resolver succeeds and released when it fails).
   */
  settle: "agent" | "on-success";
  /**
   * For "on-success": the answer when the work must not run (the action is held, or a retry
   * of one that already ran or failed): the work runs once per idempotency key at most.
   */
  notRun?: (row: ActionRow) => unknown;
}

/**
 * The policy middleware: a mutation marked with it runs only for an agent, and only after
 * the policy engine allowed the action it describes (and reserved its cost on every
 * counter). DENIED never reaches the resolver: it is a POLICY_DENIED error with the decision
 * id and reasons. For "on-success" work, a held action (PENDING_APPROVAL) or a retry does not
 * run the work: the request answers with `notRun(action)`.
 */
export function AgentActionGate<Args extends object>(options: GateOptions<Args>): MethodDecorator {
  return createMethodMiddlewareDecorator<GatedContext>(async ({ args, context }, next) => {
    const agent = await context.auth.agent();
    const { row, replayed } = await context.services.actions.submit(agent, options.describe(args as Args), context.meta);
    context.agentAction = row;
    if (options.settle === "agent") return next();
    if (replayed || row.status !== "RESERVED") return options.notRun?.(row) ?? null;
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      await context.services.actions.cancel(agent, row.id, context.meta).catch((cause: unknown) => {
        context.logger.error({ err: cause, actionId: row.id }, "could not release the reservation of a failed action");
      });
      throw error;
    }
    // The work ran: its cost stays reserved even if this settle fails (a late settle or the
    // expiry sweep deals with it); the work is never reported as failed.
    await context.services.actions.settle(agent, row.id, row.estimatedCost, context.meta).catch((cause: unknown) => {
      context.logger.error({ err: cause, actionId: row.id }, "could not settle the action after its work ran");
    });
    return result;
  });
}
