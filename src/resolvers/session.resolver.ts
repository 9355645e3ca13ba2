import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { Auth } from "../schema/directives";
import { Session } from "../schema/session.type";
import { toSessionView } from "./views";

@Resolver(() => Session)
export class SessionResolver {
  @Query(() => [Session], { description: "Your sessions, newest first; another user's with users:read." })
  @Auth()
  async sessions(
    @Arg("userId", () => ID, { nullable: true }) userId: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Session[]> {
    const principal = await ctx.auth.require();
    const rows = await ctx.services.sessions.list(principal, userId);
    return rows.map((row) => toSessionView(row, principal.sessionId));
  }
}
