/**
 * Agent-action decisions per second over HTTP against a floor measured in the same run.
 *
 * Measured: `submitAgentAction` with an agent key, under three applicable caps (AGENT/DAY in
 * an AGENT policy, OWNER/DAY in a USER policy, GLOBAL/DAY in the GLOBAL default policy, so
 * every action locks and charges the one shared GLOBAL counter), each decision written with
 * its audit row. Floor: `benchFloorInsert` on the same server (bench/floor-server.ts), the
 * same agent-key authentication and one INSERT. Rounds alternate and the medians are kept.
 * A second agent decides under the limits of runs and velocity as well: its action names a
 * run, and a cap per RUN, a cap scoped to `llm.*` and a velocity cap (actions per MINUTE)
 * are in force beside the three, so each decision locks and charges three more counters.
 * Afterwards every recorded action is checked to be ALLOWED: a denial would be a cheaper
 * path and would flatter the ratio.
 */
import postgres from "postgres";
import { CONNECTIONS, load, loadCluster, median, ROUNDS, type Measured } from "./measure";
import type { ServerProcess } from "../tests/support/server-process";

const DEFAULT_POLICY_ID = "00000000-0000-4000-8000-000000000001";
const HUGE = "1000000000000000000";

interface Result {
  floor: Measured;
  actions: Measured;
  /** Under a run cap, a pattern cap and a velocity cap as well. */
  limited: Measured;
  recorded: number;
  denied: number;
  /** The key of the agent under three caps, for the processes section. */
  key: string;
}

async function gql<T>(server: ServerProcess, token: string, query: string, variables: unknown = {}): Promise<T> {
  return server.client.ok<T, unknown>(query, variables, { token });
}

/** The largest velocity limit the API takes (a GraphQL Int). */
const MANY_ACTIONS = 2_147_483_647;

/** An agent of the owner with a key, under an AGENT policy with `caps` (written by the admin). */
async function agentWithCaps(server: ServerProcess, adminToken: string, ownerToken: string, caps: unknown[]): Promise<{ id: string; key: string }> {
  const { createAgent } = await gql<{ createAgent: { id: string } }>(server, ownerToken, `mutation { createAgent(input: { name: "bench agent" }) { id } }`);
  const { createAgentApiKey } = await gql<{ createAgentApiKey: { key: string } }>(
    server,
    ownerToken,
    `mutation ($id: ID!) { createAgentApiKey(agentId: $id) { key } }`,
    { id: createAgent.id },
  );
  await gql(server, adminToken, `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`, {
    input: { name: "agent", scope: "AGENT", scopeId: createAgent.id, caps },
  });
  return { id: createAgent.id, key: createAgentApiKey.key };
}

/** An agent under a run cap, an llm.* cap and a velocity cap too, and a run it works in. */
async function limitedAgent(server: ServerProcess, adminToken: string, ownerToken: string): Promise<{ key: string; runId: string }> {
  const agent = await agentWithCaps(server, adminToken, ownerToken, [
    { per: "AGENT", window: "DAY", limit: HUGE },
    { per: "RUN", window: "TOTAL", limit: HUGE },
    { per: "AGENT", window: "DAY", limit: HUGE, pattern: "llm.*" },
    { per: "AGENT", window: "MINUTE", maxActions: MANY_ACTIONS },
  ]);
  const { startRun } = await gql<{ startRun: { id: string } }>(server, agent.key, `mutation { startRun(input: { name: "bench run" }) { id } }`);
  return { key: agent.key, runId: startRun.id };
}

/**
 * An owner's agent with a key, governed by three caps (one GLOBAL); returns the key. Sets the
 * GLOBAL and USER policies every bench agent then decides under.
 */
async function governedAgent(server: ServerProcess, adminToken: string, ownerToken: string, ownerId: string): Promise<string> {
  await gql(server, adminToken, `mutation ($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { id } }`, {
    id: DEFAULT_POLICY_ID,
    input: { name: "Default", scope: "GLOBAL", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: [{ per: "GLOBAL", window: "DAY", limit: HUGE }] },
  });
  await gql(server, adminToken, `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`, {
    input: { name: "owner", scope: "USER", scopeId: ownerId, caps: [{ per: "OWNER", window: "DAY", limit: HUGE }] },
  });
  return (await agentWithCaps(server, adminToken, ownerToken, [{ per: "AGENT", window: "DAY", limit: HUGE }])).key;
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
  const limited = await limitedAgent(server, accounts.adminToken, accounts.ownerToken);
  const limitedBody = JSON.stringify({
    query: `mutation ($input: AgentActionInput!) { submitAgentAction(input: $input) { id status } }`,
    variables: { input: { action: "llm.completion", estimatedCost: "1250", runId: limited.runId } },
  });
  const floorRounds: Measured[] = [];
  const actionRounds: Measured[] = [];
  const limitedRounds: Measured[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    floorRounds.push(await load("floor: one-INSERT mutation (agent key)", server.url, { body: floorBody, headers }, server.child.pid));
    actionRounds.push(await withBatches([server], () => load("submitAgentAction (3 caps, 1 GLOBAL)", server.url, { body: actionBody, headers }, server.child.pid)));
    limitedRounds.push(
      await withBatches([server], () =>
        load("submitAgentAction (+ run, llm.*, velocity caps)", server.url, { body: limitedBody, headers: { authorization: `Bearer ${limited.key}` } }, server.child.pid),
      ),
    );
  }
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const [counts] = await sql<{ recorded: number; denied: number }[]>`
      SELECT count(*)::int AS recorded, count(*) FILTER (WHERE outcome <> 'ALLOWED')::int AS denied FROM agent_actions`;
    return { floor: median(floorRounds), actions: median(actionRounds), limited: median(limitedRounds), recorded: counts?.recorded ?? 0, denied: counts?.denied ?? 0, key };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The decisions and the transactions that wrote them so far, summed over the processes' /metrics. */
async function decisionBatches(servers: readonly { url: string }[]): Promise<{ decisions: number; batches: number }> {
  let decisions = 0;
  let batches = 0;
  for (const { url } of servers) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const match of text.matchAll(/^agent_action_decisions_total\{[^}]*\} (\d+)$/gm)) decisions += Number(match[1]);
    batches += Number(/^agent_action_decision_batches_total (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  return { decisions, batches };
}

/** Runs a decision load and adds the mean decisions per transaction (warm-up included). */
async function withBatches(servers: readonly { url: string }[], measure: () => Promise<Measured>): Promise<Measured> {
  const before = await decisionBatches(servers);
  const row = await measure();
  const after = await decisionBatches(servers);
  const batches = after.batches - before.batches;
  return batches > 0 ? { ...row, perBatch: (after.decisions - before.decisions) / batches } : row;
}

/**
 * Decisions per second of the whole cluster with 1, 2 and 3 server processes on one
 * PostgreSQL and Redis: the same agent (so every action locks the same AGENT, OWNER and
 * GLOBAL counters, whichever process decides it), the same total of connections split
 * evenly across the processes, all warmed and measured together. Each count is one round;
 * its CPU columns are those of every server process and PostgreSQL, per decision of the
 * cluster.
 */
export async function benchDecisionProcesses(servers: readonly ServerProcess[], key: string): Promise<Measured[]> {
  const body = JSON.stringify({
    query: `mutation ($input: AgentActionInput!) { submitAgentAction(input: $input) { id status } }`,
    variables: { input: { action: "llm.completion", estimatedCost: "1250" } },
  });
  const rows: Measured[] = [];
  for (let count = 1; count <= servers.length; count += 1) {
    const active = servers.slice(0, count);
    const connections = Math.max(1, Math.floor(CONNECTIONS / count));
    const name = `submitAgentAction, ${count} process${count > 1 ? "es" : ""} (${connections} connections each)`;
    const targets = active.map((server) => ({ url: server.url, ...(server.child.pid === undefined ? {} : { pid: server.child.pid }) }));
    rows.push(await withBatches(targets, () => loadCluster(name, targets, { body, connections, headers: { authorization: `Bearer ${key}` } })));
  }
  return rows;
}

export interface PolicyScaleRow {
  policies: number;
  decisions: Measured;
  /** One decision right after a GLOBAL policy change: every chain is loaded again. */
  reload: { p50: number; p99: number };
}

/**
 * Decisions as the platform's policies grow to 10, 1,000 and 10,000 (BENCH_SCALE_POLICIES):
 * the bench agent's chain stays the same (GLOBAL, its owner's USER policy and its AGENT
 * policy), the others (AGENT, USER and ROLE policies of other principals, five rules each)
 * are written by SQL. Steady decisions use the chain cached per agent; after a GLOBAL change
 * every chain is loaded again, through the (scope, scope_id) index.
 */
export async function benchPolicyScale(server: ServerProcess, databaseUrl: string, adminToken: string, key: string): Promise<PolicyScaleRow[]> {
  const sizes = (process.env.BENCH_SCALE_POLICIES ?? "10,1000,10000").split(",").map(Number);
  const body = JSON.stringify({
    query: `mutation ($input: AgentActionInput!) { submitAgentAction(input: $input) { id status } }`,
    variables: { input: { action: "llm.completion", estimatedCost: "1250" } },
  });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const rows: PolicyScaleRow[] = [];
  try {
    for (const size of sizes) {
      const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM policies WHERE deleted_at IS NULL`;
      if (count < size) {
        await sql`
          INSERT INTO policies (name, scope, scope_id, rules)
          SELECT 'seeded ' || g, s.scope::policy_scope, CASE s.scope WHEN 'ROLE' THEN 'role-' || (g % 50) ELSE gen_random_uuid()::text END,
            (SELECT jsonb_agg(jsonb_build_object('id', 'r' || r, 'pattern', 'svc' || ((g + r) % 97) || '.*', 'effect', CASE WHEN r % 3 = 0 THEN 'DENY' ELSE 'ALLOW' END,
              'maxCostPerAction', NULL, 'locked', false)) FROM generate_series(1, 5) AS r)
          FROM generate_series(${count}::int, ${size - 1}::int) AS g
          CROSS JOIN LATERAL (SELECT (ARRAY['AGENT', 'AGENT', 'USER', 'ROLE'])[1 + g % 4] AS scope) AS s`;
        await sql`VACUUM ANALYZE policies`;
      }
      const decisions = await load(`decisions with ${size} policies`, server.url, { body, headers: { authorization: `Bearer ${key}` } }, server.child.pid);
      const times: number[] = [];
      for (let sample = 0; sample < 20; sample += 1) {
        await gql(server, adminToken, `mutation ($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { id } }`, {
          id: DEFAULT_POLICY_ID,
          input: { name: "Default", scope: "GLOBAL", rules: [{ pattern: "llm.*", effect: "ALLOW" }], caps: [{ per: "GLOBAL", window: "DAY", limit: HUGE }] },
        });
        const started = performance.now();
        await gql(server, key, `mutation ($input: AgentActionInput!) { submitAgentAction(input: $input) { id status } }`, { input: { action: "llm.completion", estimatedCost: "1250" } });
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      rows.push({ policies: size, decisions, reload: { p50: times[10]!, p99: times[19]! } });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return rows;
}

export function formatPolicyScale(rows: readonly PolicyScaleRow[]): string {
  const lines = rows.map(
    (row) =>
      `  ${row.policies.toLocaleString("en-US").padStart(7)} policies   ${row.decisions.rps.toFixed(0).padStart(6)} decisions/s, p99 ${row.decisions.p99.toFixed(1)} ms   ` +
      `first decision after a GLOBAL change: p50 ${row.reload.p50.toFixed(1)} ms, p99 ${row.reload.p99.toFixed(1)} ms`,
  );
  return ["decisions by policies in the platform (one agent's chain of 3):", ...lines].join("\n");
}
