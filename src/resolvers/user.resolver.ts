import { Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { Public } from "../schema/directives";
import { User } from "../schema/user.type";
import { toUserView } from "./views";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, {
    nullable: true,
    description: "The signed-in user; null without credentials; UNAUTHENTICATED when the token is bad or its session ended.",
  })
  @Public()
  async me(@Ctx() ctx: GraphQLContext): Promise<User | null> {
    const principal = await ctx.auth.principal();
    return principal ? toUserView(principal.user, principal.roles) : null;
  }
}
