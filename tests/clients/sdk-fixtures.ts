import { AgentActionsDocument, SpendReportDocument } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { as } from "../support/assertions";
import { registerUser } from "../support/fixtures";
import type { GraphQLClient } from "../support/graphql-client";

/** An agent with its owner, as the SDK's tests need them: the agent's key, the owner's session. */
export interface GovernedAgent {
  agent: AgentWithKey;
  owner: { accessToken: string };
}

/**
 * A fresh owner and agent under an AGENT policy an admin wrote: `llm.*` allowed,
 * `payments.*` held for an approver, an AGENT/DAY cap of `dayCap` units.
 */
export async function governedAgent(client: GraphQLClient, admin: { accessToken: string }, dayCap = 100): Promise<GovernedAgent> {
  const owner = await registerUser(client);
  const agent = await createAgentWithKey(client, owner, "sdk agent");
  await createPolicy(client, admin, {
    name: "sdk agent policy",
    scope: "AGENT",
    scopeId: agent.id,
    rules: [
      { pattern: "llm.*", effect: "ALLOW" },
      { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
    ],
    caps: [{ per: "AGENT", window: "DAY", limit: units(dayCap) }],
  });
  return { agent, owner };
}

/** Every action of the agent, as its owner reads them through the API (newest first). */
export async function ownersView(client: GraphQLClient, { agent, owner }: GovernedAgent) {
  return (await client.ok(AgentActionsDocument, { filter: { agentId: agent.id }, first: 50 }, as(owner))).agentActions;
}

/** The agent's DAY window (reserved, settled), as its owner reads it. */
export async function agentDay(client: GraphQLClient, { agent, owner }: GovernedAgent) {
  const report = (await client.ok(SpendReportDocument, { per: "AGENT", subjectId: agent.id }, as(owner))).spendReport;
  return report.windows.find((window) => window.window === "DAY")!;
}
