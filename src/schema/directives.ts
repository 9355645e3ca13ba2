import { DirectiveLocation, GraphQLBoolean, GraphQLDirective, GraphQLEnumType, GraphQLString } from "graphql";
import { Directive } from "type-graphql";
import type { Permission } from "../auth/permissions";
import { BUILT_IN_ROLES, type BuiltInRole } from "../auth/roles";

/** Built-in roles as the `@auth(requires:)` argument sees them. */
export const RoleEnum = new GraphQLEnumType({
  name: "BuiltInRole",
  description: "Built-in roles. Custom roles are granted through permissions.",
  values: Object.fromEntries(BUILT_IN_ROLES.map((role) => [role, { value: role }])),
});

export const authDirective = new GraphQLDirective({
  name: "auth",
  description:
    "Access rule, enforced by the server: the caller must be signed in and hold the role (or one that inherits it) and/or the permission. With allowSelf, the record's own user also passes. Restricted sessions (see SessionRestriction) reach only root fields with allowRestricted. With agent, only an AI agent's API key is accepted (and people are refused); with orAgent, people pass by the rest of the rule and an agent's API key passes too (the field decides what the agent may reach); without either, agent keys are refused.",
  locations: [DirectiveLocation.FIELD_DEFINITION],
  args: {
    requires: { type: RoleEnum },
    permission: { type: GraphQLString },
    allowSelf: { type: GraphQLBoolean, defaultValue: false },
    allowRestricted: { type: GraphQLBoolean, defaultValue: false },
    agent: { type: GraphQLBoolean, defaultValue: false },
    orAgent: { type: GraphQLBoolean, defaultValue: false },
  },
});

export const publicDirective = new GraphQLDirective({
  name: "public",
  description: "Deliberately open to anyone, signed in or not.",
  locations: [DirectiveLocation.FIELD_DEFINITION],
});

export const DIRECTIVES = [authDirective, publicDirective];

export interface AuthRule {
  requires?: BuiltInRole;
  permission?: Permission;
  allowSelf?: boolean;
  allowRestricted?: boolean;
  agent?: boolean;
  orAgent?: boolean;
}

/** `@auth(...)` on a field, written from typed options so a typo cannot reach the SDL. */
export function Auth(rule: AuthRule = { requires: "USER" }): MethodDecorator & PropertyDecorator {
  const args: string[] = [];
  if (rule.requires) args.push(`requires: ${rule.requires}`);
  if (rule.permission) args.push(`permission: ${JSON.stringify(rule.permission)}`);
  if (rule.allowSelf) args.push("allowSelf: true");
  if (rule.allowRestricted) args.push("allowRestricted: true");
  if (rule.agent) args.push("agent: true");
  if (rule.orAgent) args.push("orAgent: true");
  return Directive(args.length > 0 ? `@auth(${args.join(", ")})` : "@auth") as MethodDecorator & PropertyDecorator;
}

/** `@public` on a field: a deliberate, visible decision that no sign-in is needed. */
export function Public(): MethodDecorator & PropertyDecorator {
  return Directive("@public") as MethodDecorator & PropertyDecorator;
}
