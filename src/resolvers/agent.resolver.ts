import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { AgentApiKeyRow, AgentRow } from "../agents/agent.repository";
import type { GraphQLContext } from "../graphql/context";
import {
  Agent,
  AgentApiKey,
  AgentApiKeyPayload,
  AgentStatus,
  CreateAgentApiKeyInput,
  CreateAgentInput,
} from "../schema/agent.types";
import { Auth } from "../schema/directives";

const agentView = (row: AgentRow): Agent => ({
  id: row.id,
  ownerId: row.ownerId,
  name: row.name,
  status: row.status as AgentStatus,
  createdAt: row.createdAt,
});

const keyView = (row: AgentApiKeyRow): AgentApiKey => ({
  id: row.id,
  prefix: row.prefix,
  name: row.name,
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  lastUsedAt: row.lastUsedAt,
  revokedAt: row.revokedAt,
});

/** Agents and their keys, managed by their owners (and by agents:read / agents:write holders). */
@Resolver()
export class AgentResolver {
  @Query(() => [Agent], { description: "Your agents; with agents:read, everyone's (or one owner's)." })
  @Auth()
  async agents(@Arg("ownerId", () => ID, { nullable: true }) ownerId: string | null, @Ctx() ctx: GraphQLContext): Promise<Agent[]> {
    return (await ctx.services.agents.list(await ctx.auth.require(), ownerId)).map(agentView);
  }

  @Query(() => Agent)
  @Auth()
  async agent(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView(await ctx.services.agents.get(await ctx.auth.require(), id));
  }

  @Query(() => [AgentApiKey])
  @Auth()
  async agentApiKeys(@Arg("agentId", () => ID) agentId: string, @Ctx() ctx: GraphQLContext): Promise<AgentApiKey[]> {
    return (await ctx.services.agents.keys(await ctx.auth.require(), agentId)).map(keyView);
  }

  @Query(() => Agent, { description: "For an agent: itself, as its API key identifies it." })
  @Auth({ agent: true })
  async currentAgent(@Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView((await ctx.auth.agent()).agent);
  }

  @Mutation(() => Agent)
  @Auth()
  async createAgent(@Arg("input", () => CreateAgentInput) input: CreateAgentInput, @Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView(await ctx.services.agents.create(await ctx.auth.require(), input.name, ctx.meta));
  }

  @Mutation(() => Agent)
  @Auth()
  async renameAgent(@Arg("id", () => ID) id: string, @Arg("name", () => String) name: string, @Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView(await ctx.services.agents.rename(await ctx.auth.require(), id, name, ctx.meta));
  }

  @Mutation(() => Agent, { description: "A suspended agent's keys stop working at once." })
  @Auth()
  async suspendAgent(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView(await ctx.services.agents.setSuspended(await ctx.auth.require(), id, true, ctx.meta));
  }

  @Mutation(() => Agent)
  @Auth()
  async resumeAgent(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Agent> {
    return agentView(await ctx.services.agents.setSuspended(await ctx.auth.require(), id, false, ctx.meta));
  }

  @Mutation(() => Boolean)
  @Auth()
  async deleteAgent(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.agents.delete(await ctx.auth.require(), id, ctx.meta);
  }

  @Mutation(() => AgentApiKeyPayload, { description: "A new key for the agent; several may be live at once (rotation)." })
  @Auth()
  async createAgentApiKey(
    @Arg("agentId", () => ID) agentId: string,
    @Arg("input", () => CreateAgentApiKeyInput, { nullable: true }) input: CreateAgentApiKeyInput | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AgentApiKeyPayload> {
    const created = await ctx.services.agents.createKey(await ctx.auth.require(), agentId, input ?? {}, ctx.meta);
    return { key: created.key, apiKey: keyView(created.row) };
  }

  @Mutation(() => Boolean)
  @Auth()
  async revokeAgentApiKey(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.agents.revokeKey(await ctx.auth.require(), id, ctx.meta);
  }
}
