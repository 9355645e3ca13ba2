import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import type { RoleRecord } from "../roles/role.service";
import { Auth } from "../schema/directives";
import { CreateRoleInput, Role, UpdateRoleInput } from "../schema/role.types";

function toRoleView(record: RoleRecord): Role {
  return {
    name: record.name,
    description: record.description,
    permissions: [...record.permissions],
    inherits: [...record.inherits],
    builtIn: record.builtIn,
    effectivePermissions: [...record.effectivePermissions],
  };
}

/** Role administration: adapters over RoleService, which checks, writes and audits. */
@Resolver(() => Role)
export class RoleResolver {
  @Query(() => [Role], { description: "Every role, built-in and custom, sorted by name." })
  @Auth({ permission: "roles:read" })
  async roles(@Ctx() ctx: GraphQLContext): Promise<Role[]> {
    return (await ctx.services.roles.list()).map(toRoleView);
  }

  @Query(() => Role, { nullable: true, description: "One role by name; null when there is none." })
  @Auth({ permission: "roles:read" })
  async role(@Arg("name", () => String) name: string, @Ctx() ctx: GraphQLContext): Promise<Role | null> {
    const record = await ctx.services.roles.get(name);
    return record ? toRoleView(record) : null;
  }

  @Mutation(() => Role, { description: "Creates a custom role." })
  @Auth({ permission: "roles:write" })
  async createRole(@Arg("input", () => CreateRoleInput) input: CreateRoleInput, @Ctx() ctx: GraphQLContext): Promise<Role> {
    return toRoleView(await ctx.services.roles.create(await ctx.auth.require(), input, ctx.meta));
  }

  @Mutation(() => Role, { description: "Changes a role. Built-in roles: the description only." })
  @Auth({ permission: "roles:write" })
  async updateRole(
    @Arg("name", () => String) name: string,
    @Arg("input", () => UpdateRoleInput) input: UpdateRoleInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Role> {
    return toRoleView(await ctx.services.roles.update(await ctx.auth.require(), name, input, ctx.meta));
  }

  @Mutation(() => Boolean, { description: "Deletes a custom role with its grants; built-in roles cannot be deleted." })
  @Auth({ permission: "roles:write" })
  async deleteRole(@Arg("name", () => String) name: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.roles.delete(await ctx.auth.require(), name, ctx.meta);
    return true;
  }

  @Mutation(() => Boolean, {
    description: "Grants a role; effective on the user's next request. False when the user already held it. USER is implicit.",
  })
  @Auth({ permission: "roles:write" })
  async grantRole(
    @Arg("userId", () => ID) userId: string,
    @Arg("role", () => String) role: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.roles.grant(await ctx.auth.require(), userId, role, ctx.meta);
  }

  @Mutation(() => Boolean, {
    description: "Revokes a role; effective on the user's next request. False when the user did not hold it. The last ADMIN keeps it.",
  })
  @Auth({ permission: "roles:write" })
  async revokeRole(
    @Arg("userId", () => ID) userId: string,
    @Arg("role", () => String) role: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.roles.revoke(await ctx.auth.require(), userId, role, ctx.meta);
  }
}
