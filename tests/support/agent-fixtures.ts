import { CreatePolicyDocument, type PolicyInput } from "../generated/graphql";
import type { GraphQLClient } from "./graphql-client";

/** Whole currency units as a Money string (micro-units). */
export const units = (amount: number): string => (BigInt(amount) * 1_000_000n).toString();

export interface AgentWithKey {
  id: string;
  ownerId: string;
  key: string;
  /** Request options that present the agent's API key. */
  auth: { token: string };
}

/** Creates an agent for `owner` and a key for it, through the API as the owner would. */
export async function createAgentWithKey(client: GraphQLClient, owner: { accessToken: string }, name = "test agent"): Promise<AgentWithKey> {
  const token = { token: owner.accessToken };
  const { createAgent } = await client.ok<{ createAgent: { id: string; ownerId: string } }, unknown>(
    `mutation ($name: String!) { createAgent(input: { name: $name }) { id ownerId } }`,
    { name },
    token,
  );
  const { createAgentApiKey } = await client.ok<{ createAgentApiKey: { key: string } }, unknown>(
    `mutation ($agentId: ID!) { createAgentApiKey(agentId: $agentId) { key } }`,
    { agentId: createAgent.id },
    token,
  );
  return { id: createAgent.id, ownerId: createAgent.ownerId, key: createAgentApiKey.key, auth: { token: createAgentApiKey.key } };
}

/** Creates a policy as `actor` (who needs policies:write for scopes other than their agents). */
export async function createPolicy(client: GraphQLClient, actor: { accessToken: string }, input: PolicyInput) {
  return (await client.ok(CreatePolicyDocument, { input }, { token: actor.accessToken })).createPolicy;
}
