import { getDirective, MapperKind, mapSchema } from "@graphql-tools/utils";
import { defaultFieldResolver, type GraphQLFieldConfig, type GraphQLSchema } from "graphql";
import { allows, describeRule, type AccessRule, type OwnedRecord } from "../auth/access-rule";
import { ForbiddenError } from "../errors/errors";
import type { GraphQLContext } from "./context";

type FieldConfig = GraphQLFieldConfig<unknown, GraphQLContext>;

const RESTRICTED = {
  mfa_enrollment: "Your role requires MFA: enrol it (beginMfaEnrollment) before anything else",
  password_change: "Your password has expired: change it (changePassword) before anything else",
  email_verification: "Verify your email address before anything else",
} as const;

export function accessRuleOf(schema: GraphQLSchema, field: FieldConfig): AccessRule | undefined {
  return getDirective(schema, field, "auth")?.[0] as AccessRule | undefined;
}

export function isPublic(schema: GraphQLSchema, field: FieldConfig): boolean {
  return (getDirective(schema, field, "public")?.length ?? 0) > 0;
}

/**
 * Secure by default: every root field must say who may call it, `@auth(...)` or `@public`.
 * The server refuses to start otherwise, and lists the fields that forgot.
 */
export function assertEveryRootFieldDeclaresAccess(schema: GraphQLSchema): void {
  const missing: string[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!root) continue;
    for (const [name, field] of Object.entries(root.toConfig().fields)) {
      const declared = accessRuleOf(schema, field as FieldConfig) !== undefined || isPublic(schema, field as FieldConfig);
      if (!declared) missing.push(`${root.name}.${name}`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`Root fields without @auth or @public: ${missing.join(", ")}`);
  }
}

/**
 * Makes `@auth` do what it says: each field carrying it resolves only after the caller's
 * principal passes the rule, on root and object fields alike. A restricted session reaches
 * only the root fields marked `allowRestricted`.
 */
export function enforceAuthDirectives(schema: GraphQLSchema): GraphQLSchema {
  assertEveryRootFieldDeclaresAccess(schema);
  const roots = new Set([schema.getQueryType()?.name, schema.getMutationType()?.name].filter(Boolean));
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const rule = accessRuleOf(schema, field as FieldConfig);
      if (!rule) return field;
      const resolve = field.resolve ?? defaultFieldResolver;
      return {
        ...field,
        async resolve(source, args, ctx: GraphQLContext, info) {
          if (rule.agent || (rule.orAgent && ctx.auth.presentsAgentKey())) {
            await ctx.auth.agent();
            return resolve(source, args, ctx, info);
          }
          const principal = await ctx.auth.require();
          if (principal.restriction && roots.has(typeName) && !rule.allowRestricted) {
            throw new ForbiddenError(RESTRICTED[principal.restriction], { restriction: principal.restriction.toUpperCase() });
          }
          if (!allows(rule, principal, source as OwnedRecord | undefined, typeName)) {
            throw new ForbiddenError(`${typeName}.${fieldName} ${describeRule(rule)}`);
          }
          return resolve(source, args, ctx, info);
        },
      };
    },
  });
}
