import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { LIMITS } from "../rate-limit/limits";
import { RateLimit } from "../rate-limit/rate-limit";
import { SessionRestriction } from "../schema/account-security.types";
import { Auth, Public } from "../schema/directives";
import {
  CreateUserInput,
  OrderDirection,
  ProfileInput,
  TokenStatus,
  UpdateUserInput,
  UserConnection,
  UserFilter,
  UserOrder,
  UserOrderField,
} from "../schema/user-admin.types";
import { User } from "../schema/user.type";
import type { UserWithRoles } from "../users/user-admin.service";
import { toUserView } from "./views";

const view = (entry: UserWithRoles) => toUserView(entry.row, entry.roles);

/** Account administration, profile edits, and the token check other services call. */
@Resolver()
export class UserAdminResolver {
  @Query(() => UserConnection, { description: "Search, filter, sort and page through accounts." })
  @Auth({ permission: "users:read" })
  async users(
    @Arg("filter", () => UserFilter, { nullable: true }) filter: UserFilter | null,
    @Arg("orderBy", () => UserOrder, { nullable: true }) orderBy: UserOrder | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserConnection> {
    const order = { field: orderBy?.field ?? UserOrderField.CREATED_AT, direction: orderBy?.direction ?? OrderDirection.DESC };
    const page = await ctx.services.users.list({ filter: filter ?? {}, order, first, after });
    return {
      edges: page.users.map((entry) => ({ cursor: entry.cursor, node: view(entry) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.users.at(-1)?.cursor ?? null },
      countAll: page.countAll,
    };
  }

  @Query(() => User, { nullable: true })
  @Auth({ permission: "users:read" })
  async user(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    const found = await ctx.services.users.get(id);
    return found ? view(found) : null;
  }

  @Mutation(() => User, { description: "Edit your own profile." })
  @Auth()
  @RateLimit(...LIMITS.updateProfile)
  async updateMe(@Arg("input", () => ProfileInput) input: ProfileInput, @Ctx() ctx: GraphQLContext): Promise<User> {
    return view(await ctx.services.users.updateMe(await ctx.auth.require(), input, ctx.meta));
  }

  @Mutation(() => User, { description: "Create an account; without a password the user is invited by email." })
  @Auth({ permission: "users:write" })
  async createUser(@Arg("input", () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<User> {
    return view(await ctx.services.users.create(await ctx.auth.require(), input, ctx.meta));
  }

  @Mutation(() => User)
  @Auth({ permission: "users:write" })
  async updateUser(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateUserInput) input: UpdateUserInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<User> {
    return view(await ctx.services.users.update(await ctx.auth.require(), id, input, ctx.meta));
  }

  @Mutation(() => User, { description: "Disable an account: it cannot sign in and its sessions end." })
  @Auth({ permission: "users:write" })
  async disableUser(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<User> {
    return view(await ctx.services.users.setDisabled(await ctx.auth.require(), id, true, ctx.meta));
  }

  @Mutation(() => User)
  @Auth({ permission: "users:write" })
  async enableUser(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<User> {
    return view(await ctx.services.users.setDisabled(await ctx.auth.require(), id, false, ctx.meta));
  }

  @Mutation(() => Boolean, { description: "Soft delete: the email is freed, sessions end, the audit trail stays." })
  @Auth({ permission: "users:write" })
  async deleteUser(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.users.delete(await ctx.auth.require(), id, ctx.meta);
  }

  @Query(() => TokenStatus, {
    description: "For other services: is this access token live now (session not ended, user enabled)? Who, with what roles.",
  })
  @Public()
  @RateLimit(...LIMITS.tokenStatus)
  async tokenStatus(@Arg("token", () => String) token: string, @Ctx() ctx: GraphQLContext): Promise<TokenStatus> {
    const status = await ctx.services.tokens.status(token);
    return { ...status, restriction: status.restriction as SessionRestriction | null };
  }
}

/** A page's `totalCount`: counting every match costs a pass over all of them, so only when selected. */
@Resolver(() => UserConnection)
export class UserConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: UserConnection): Promise<number> {
    return connection.countAll();
  }
}
