import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchemaSync, type NonEmptyArray } from "type-graphql";
import { AccountResolver } from "../resolvers/account.resolver";
import { AgentActionResolver } from "../resolvers/agent-action.resolver";
import { SpendResolver } from "../resolvers/spend.resolver";
import { AuthResolver } from "../resolvers/auth.resolver";
import { MfaResolver } from "../resolvers/mfa.resolver";
import { SessionResolver } from "../resolvers/session.resolver";
import { AgentResolver } from "../resolvers/agent.resolver";
import { AuditEventConnectionResolver, AuditResolver } from "../resolvers/audit.resolver";
import { PolicyResolver } from "../resolvers/policy.resolver";
import { RoleResolver } from "../resolvers/role.resolver";
import { UserAdminResolver, UserConnectionResolver } from "../resolvers/user-admin.resolver";
import { UserResolver } from "../resolvers/user.resolver";
import { RunResolver } from "../resolvers/run.resolver";
import { AgentActionRunResolver, AuditEventRunResolver } from "../resolvers/run-links.resolver";
import { WebhookResolver } from "../resolvers/webhook.resolver";
import { DIRECTIVES } from "../schema/directives";
import { enforceArgumentRules } from "./argument-rules";
import { enforceAuthDirectives } from "./auth-enforcement";

export const RESOLVERS = [AuthResolver, AccountResolver, MfaResolver, UserResolver, UserAdminResolver, UserConnectionResolver, SessionResolver, RoleResolver, AuditResolver, AuditEventConnectionResolver, AgentResolver, PolicyResolver, AgentActionResolver, SpendResolver, RunResolver, AgentActionRunResolver, AuditEventRunResolver, WebhookResolver] as const;

/**
 * The executable schema: type-graphql classes plus the `@auth` enforcement. Input checks
 * live in the services (one place, typed errors), so type-graphql's class-validator hook
 * is off; the rules every argument shares (storable text, UUID ids, bounded dates) are
 * enforced once for the whole schema, inside `@auth`.
 */
export function buildAppSchema(extraResolvers: readonly NonEmptyArray<Function>[number][] = []): GraphQLSchema {
  const schema = buildSchemaSync({
    resolvers: [...RESOLVERS, ...extraResolvers],
    directives: DIRECTIVES,
    validate: false,
  });
  return enforceAuthDirectives(enforceArgumentRules(schema));
}
