import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import type { PolicyDraft, PolicyRecord, PolicyVersionRecord } from "../policies/policy.service";
import type { PolicyMode, PolicyScope } from "../policy/policy-types";
import { Auth } from "../schema/directives";
import { withCapFacets } from "./cap-facets";
import {
  EffectivePolicyView,
  PolicyInput,
  PolicyModeEnum,
  PolicyScopeEnum,
  PolicyVersionView,
  PolicyView,
} from "../schema/policy.types";

function toPolicyView(record: PolicyRecord): PolicyView {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    scopeId: record.scopeId,
    enabled: record.enabled,
    mode: record.mode,
    authority: record.authority,
    version: record.version,
    builtIn: record.builtIn,
    rules: record.rules.map((rule) => ({ ...rule, maxCostPerAction: rule.maxCostPerAction ?? null, overrunAllowance: rule.overrunAllowance ?? null })),
    caps: record.caps.map((cap) => withCapFacets({ ...cap, overrunAllowance: cap.overrunAllowance ?? 0n })),
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
    deletedAt: record.deletedAt,
  };
}

function toVersionView(record: PolicyVersionRecord): PolicyVersionView {
  const { policyId, version, change, changedAt, changedBy } = record;
  return { policyId, version, change, changedAt, changedBy, snapshot: toPolicyView(record.snapshot) };
}

export function toDraft(input: PolicyInput): PolicyDraft {
  return {
    name: input.name,
    scope: input.scope,
    scopeId: input.scopeId,
    enabled: input.enabled,
    mode: input.mode,
    rules: input.rules,
    caps: input.caps,
  };
}

const WRITE_ACCESS =
  "Access: policies:write for every scope; otherwise AGENT policies of your own agents only, which may only restrict what the rest of the chain allows (no locked rules or caps), and only policies you created.";

/**
 * Governance policies: adapters over PolicyService, which checks access (beyond being signed
 * in, declared by @auth), validates, writes the new version and audits.
 */
@Resolver()
export class PolicyResolver {
  @Query(() => [PolicyView], {
    description: "Live policies, broadest scope first. policies:read sees all; others see their USER policy and their agents' AGENT policies.",
  })
  @Auth()
  async policies(
    @Arg("scope", () => PolicyScopeEnum, { nullable: true }) scope: PolicyScope | null,
    @Arg("scopeId", () => String, { nullable: true }) scopeId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyView[]> {
    return (await ctx.services.policies.list(await ctx.auth.require(), { scope, scopeId })).map(toPolicyView);
  }

  @Query(() => PolicyView, { nullable: true, description: "One policy (deleted ones too); null when absent or not readable to you." })
  @Auth()
  async policy(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<PolicyView | null> {
    const record = await ctx.services.policies.get(await ctx.auth.require(), id);
    return record ? toPolicyView(record) : null;
  }

  @Query(() => [PolicyVersionView], { description: "Every version of a policy, oldest first. Readable as the policy is." })
  @Auth()
  async policyVersions(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<PolicyVersionView[]> {
    return (await ctx.services.policies.versions(await ctx.auth.require(), id)).map(toVersionView);
  }

  @Query(() => PolicyVersionView, { nullable: true, description: "One version of a policy; null when it has no such version." })
  @Auth()
  async policyVersion(
    @Arg("id", () => ID) id: string,
    @Arg("version", () => Int) version: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyVersionView | null> {
    const record = await ctx.services.policies.version(await ctx.auth.require(), id, version);
    return record ? toVersionView(record) : null;
  }

  @Query(() => EffectivePolicyView, {
    description:
      "The merged view of an agent's enabled policies, as decisions resolve them. For the agent's owner and policies:read holders. includeShadow: the would-be view with SHADOW policies counted.",
  })
  @Auth()
  async effectivePolicy(
    @Arg("agentId", () => ID) agentId: string,
    @Arg("includeShadow", () => Boolean, { defaultValue: false }) includeShadow: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EffectivePolicyView> {
    const view = await ctx.services.policies.effective(await ctx.auth.require(), agentId, { includeShadow });
    return {
      ...view,
      caps: view.caps.map((group) => ({
        ...withCapFacets(group),
        applied: group.applied.map(withCapFacets),
        overridden: group.overridden.map(({ cap, by }) => ({ cap: withCapFacets(cap), by: by.map(withCapFacets) })),
      })),
    };
  }

  @Mutation(() => PolicyView, { description: `Creates a policy (version 1). ${WRITE_ACCESS}` })
  @Auth()
  async createPolicy(@Arg("input", () => PolicyInput) input: PolicyInput, @Ctx() ctx: GraphQLContext): Promise<PolicyView> {
    return toPolicyView(await ctx.services.policies.create(await ctx.auth.require(), toDraft(input), ctx.meta));
  }

  @Mutation(() => PolicyView, {
    description: `Replaces a policy's content as a new version. With expectedVersion, refused (CONFLICT) unless it is the current version. ${WRITE_ACCESS}`,
  })
  @Auth()
  async updatePolicy(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => PolicyInput) input: PolicyInput,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyView> {
    return toPolicyView(await ctx.services.policies.update(await ctx.auth.require(), id, toDraft(input), ctx.meta, expectedVersion));
  }

  @Mutation(() => PolicyView, { description: `Enables or disables a policy (a new version unless unchanged). ${WRITE_ACCESS}` })
  @Auth()
  async setPolicyEnabled(
    @Arg("id", () => ID) id: string,
    @Arg("enabled", () => Boolean) enabled: boolean,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyView> {
    return toPolicyView(await ctx.services.policies.setEnabled(await ctx.auth.require(), id, enabled, ctx.meta, expectedVersion));
  }

  @Mutation(() => PolicyView, { description: `ENFORCE, or SHADOW (audit only: never blocks, never charges). ${WRITE_ACCESS}` })
  @Auth()
  async setPolicyMode(
    @Arg("id", () => ID) id: string,
    @Arg("mode", () => PolicyModeEnum) mode: PolicyMode,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyView> {
    return toPolicyView(await ctx.services.policies.setMode(await ctx.auth.require(), id, mode, ctx.meta, expectedVersion));
  }

  @Mutation(() => PolicyView, {
    description: `Deletes a policy (soft: its versions stay readable); returns it as deleted. The default policy cannot be deleted. ${WRITE_ACCESS}`,
  })
  @Auth()
  async deletePolicy(
    @Arg("id", () => ID) id: string,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PolicyView> {
    return toPolicyView(await ctx.services.policies.delete(await ctx.auth.require(), id, ctx.meta, expectedVersion));
  }
}
