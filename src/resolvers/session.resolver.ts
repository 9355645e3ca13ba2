import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
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

  @Mutation(() => Boolean, { description: "End one session: your own, or anyone's with users:write." })
  @Auth()
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.sessions.revoke(await ctx.auth.require(), id, ctx.meta);
  }

  @Mutation(() => Int, { description: "End all your sessions but this one; returns how many ended." })
  @Auth()
  async revokeOtherSessions(@Ctx() ctx: GraphQLContext): Promise<number> {
    return ctx.services.sessions.revokeAll(await ctx.auth.require(), null, ctx.meta);
  }

  @Mutation(() => Int, { description: "End every session of a user; returns how many ended." })
  @Auth({ permission: "users:write" })
  async revokeUserSessions(@Arg("userId", () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<number> {
    return ctx.services.sessions.revokeAll(await ctx.auth.require(), userId, ctx.meta);
  }
}
