import { Field, InputType, ObjectType } from "type-graphql";

/**
 * A role as clients see it. The GraphQL name `Role` needs the `@auth(requires:)` enum
 * (src/schema/directives.ts) to be named otherwise (`BuiltInRole`): one schema cannot hold
 * two types of one name.
 */
@ObjectType("Role", { description: "A named set of permissions, possibly inheriting other roles' permissions." })
export class Role {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => [String], { description: "The role's own permissions, sorted." })
  permissions!: string[];

  @Field(() => [String], { description: "The roles it inherits from, sorted." })
  inherits!: string[];

  @Field(() => Boolean, { description: "Seeded by the server: cannot be deleted; permissions and inherits are fixed." })
  builtIn!: boolean;

  @Field(() => [String], { description: "Every permission the role confers, its own and inherited, sorted." })
  effectivePermissions!: string[];
}

@InputType({ description: "A custom role." })
export class CreateRoleInput {
  @Field(() => String, { description: "Upper snake case, 2 to 40 characters, e.g. SUPPORT_AGENT." })
  name!: string;

  @Field(() => String, { defaultValue: "", description: "At most 500 characters." })
  description?: string;

  @Field(() => [String], { defaultValue: [], description: "Permission strings from the closed list." })
  permissions?: string[];

  @Field(() => [String], { defaultValue: [], description: "Existing roles to inherit from; no cycles." })
  inherits?: string[];
}

@InputType({ description: "Changes to a role; an absent or null field stays as it is, an empty list clears it." })
export class UpdateRoleInput {
  @Field(() => String, { nullable: true, description: "Editable on built-in roles too." })
  description?: string | null;

  @Field(() => [String], { nullable: true, description: "Replaces the role's own permissions. Not on built-in roles." })
  permissions?: string[] | null;

  @Field(() => [String], { nullable: true, description: "Replaces the roles it inherits from. Not on built-in roles." })
  inherits?: string[] | null;
}
