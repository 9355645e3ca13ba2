/**
 * Agent-action decisions per second over HTTP against a floor measured in the same run.
 *
 * Measured: `submitAgentAction` with an agent key, under three applicable caps (AGENT/DAY in
 * an AGENT policy, OWNER/DAY in a USER policy, GLOBAL/DAY in the GLOBAL default policy, so
 * every action locks and charges the one shared GLOBAL counter), each decision written with
 * its audit row. Floor: `benchFloorInsert` on the same server (bench/floor-server.ts), the
 * same agent-key authentication and one INSERT. Rounds alternate and the medians are kept.
 * Afterwards every recorded action is checked to be ALLOWED: a denial would be a cheaper
 * path and would flatter the ratio.
 */
import postgres from "postgres";
import { load, median, ROUNDS, type Measured } from "./measure";
import type { ServerProcess } from "../tests/support/server-process";

const DEFAULT_POLICY_ID = "00000000-0000-4000-8000-000000000001";
const HUGE = "1000000000000000000";

interface Result {
  floor: Measured;
  actions: Measured;
  recorded: number;
  denied: number;
}

async function gql<T>(server: ServerProcess, token: string, query: string, variables: unknown = {}): Promise<T> {
  return server.client.ok<T, unknown>(query, variables, { token });
}

/** An owner's agent with a key, governed by three caps (one GLOBAL); returns the key. */
async function governedAgent(server: ServerProcess, adminToken: string, ownerToken: string, ownerId: string): Promise<string> {
  const { createAgent } = await gql<{ createAgent: { id: string } }>(server, ownerToken, `mutation { createAgent(input: { name: "bench agent" }) { id } }`);
  const { createAgentApiKey } = await gql<{ createAgentApiKey: { key: string } }>(
    server,
    ownerToken,
    `mutation ($id: ID!) { createAgentApiKey(agentId: $id) { key } }`,
    { id: createAgent.id },
  );
  const policy = `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`;
  await gql(server, adminToken, `mutation ($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { id } }`, {
    id: DEFAULT_POLICY_ID,
    input: { name: "Default", scope: "GLOBAL", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: [{ per: "GLOBAL", window: "DAY", limit: HUGE }] },
  });
  await gql(server, adminToken, policy, { input: { name: "owner", scope: "USER", scopeId: ownerId, caps: [{ per: "OWNER", window: "DAY", limit: HUGE }] } });
  await gql(server, adminToken, policy, { input: { name: "agent", scope: "AGENT", scopeId: createAgent.id, caps: [{ per: "AGENT", window: "DAY", limit: HUGE }] } });
  return createAgentApiKey.key;
}

export async function benchAgentActions(
  server: ServerProcess,
  databaseUrl: string,
  accounts: { adminToken: string; ownerToken: string; ownerId: string },
): Promise<Result> {
  const key = await governedAgent(server, accounts.adminToken, accounts.ownerToken, accounts.ownerId);
  const headers = { authorization: `Bearer ${key}` };
  const floorBody = JSON.stringify({ query: "mutation { benchFloorInsert }" });
  const actionBody = JSON.stringify({
    query: `mutation ($input: AgentActionInput!) { submitAgentAction(input: $input) { id status } }`,
    variables: { input: { action: "llm.completion", estimatedCost: "1250" } },
  });
  const floorRounds: Measured[] = [];
  const actionRounds: Measured[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    floorRounds.push(await load("floor: one-INSERT mutation (agent key)", server.url, { body: floorBody, headers }));
    actionRounds.push(await load("submitAgentAction (3 caps, 1 GLOBAL)", server.url, { body: actionBody, headers }));
  }
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const [counts] = await sql<{ recorded: number; denied: number }[]>`
      SELECT count(*)::int AS recorded, count(*) FILTER (WHERE outcome <> 'ALLOWED')::int AS denied FROM agent_actions`;
    return { floor: median(floorRounds), actions: median(actionRounds), recorded: counts?.recorded ?? 0, denied: counts?.denied ?? 0 };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
