/**
 * How the audit query and chain verification grow with the trail: the trail is extended to
 * each size in turn (100,000, 1,000,000 and 5,000,000 events by default; BENCH_SCALE_AUDIT
 * to change), each row chained to the one before it as the recorder chains them (its hash
 * computed here, written by SQL in batches), then an admin asks, one request at a time:
 * the newest page, a page from the middle (keyset cursor), one actor's events, one rare
 * action, an action prefix, an hour's window, and one actor's `totalCount`; p50 and p99
 * over SAMPLES requests each. Verification is timed once per size: the full walk (every
 * event, linear by nature) and a routine check from the latest checkpoint after 1,000 new
 * events, which must read only those.
 */
import crypto from "node:crypto";
import postgres from "postgres";
import { hashAuditContent, type AuditContent } from "../src/audit/audit-chain";
import type { ServerProcess } from "../tests/support/server-process";

const SIZES = (process.env.BENCH_SCALE_AUDIT ?? "100000,1000000,5000000").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 200);
/** Rows per INSERT: 13 columns stay under PostgreSQL's 65,535 parameters. */
const BATCH = 4_000;
/** Seeded events are 10 ms apart, so a million of them span about three hours. */
const STEP_MS = 10;
const ACTORS = 20_000;
/** What the seeded trail is made of: mostly decisions and sign-ins, a few rare events. */
const ACTIONS: [string, number][] = [
  ["agent.action.decided", 0.6],
  ["auth.login.succeeded", 0.2],
  ["auth.token.refreshed", 0.15],
  ["auth.login.failed", 0.045],
  ["auth.password.changed", 0.005],
];
const RARE_ACTION = "auth.password.changed";

export interface AuditScaleRow {
  size: number;
  name: string;
  p50: number;
  p99: number;
}

interface Head {
  seq: bigint;
  hash: string | null;
  at: number;
}

async function head(sql: postgres.Sql): Promise<Head> {
  const [row] = await sql<{ seq: string; hash: string | null; at: Date }[]>`
    SELECT seq::text AS seq, hash, occurred_at AS at FROM audit_events ORDER BY seq DESC LIMIT 1`;
  return row ? { seq: BigInt(row.seq), hash: row.hash, at: row.at.getTime() } : { seq: 0n, hash: null, at: Date.now() };
}

function actionAt(roll: number): string {
  let sum = 0;
  for (const [action, share] of ACTIONS) {
    sum += share;
    if (roll < sum) return action;
  }
  return ACTIONS[0]![0];
}

/** Appends `count` chained events after the current head, in batches. */
async function appendEvents(sql: postgres.Sql, count: number, startAt: number): Promise<number> {
  let { hash: prevHash } = await head(sql);
  let at = startAt;
  for (let done = 0; done < count; done += BATCH) {
    const rows = [];
    for (let i = 0; i < Math.min(BATCH, count - done); i += 1) {
      at += STEP_MS;
      const actor = `actor-${crypto.randomInt(ACTORS)}`;
      const content: AuditContent = {
        id: crypto.randomUUID(),
        occurredAt: new Date(at),
        actorType: "user",
        actorId: actor,
        action: actionAt(Math.random()),
        targetType: "agent_action",
        targetId: crypto.randomUUID(),
        outcome: "success",
        ip: "10.0.0.1",
        userAgent: "seeded",
        requestId: null,
        details: { cost: String(crypto.randomInt(10_000)) },
      };
      const hash = hashAuditContent(prevHash, content);
      rows.push({
        id: content.id,
        occurred_at: content.occurredAt,
        actor_type: content.actorType,
        actor_id: content.actorId,
        action: content.action,
        target_type: content.targetType,
        target_id: content.targetId,
        outcome: content.outcome,
        ip: content.ip,
        user_agent: content.userAgent,
        request_id: content.requestId,
        details: sql.json(content.details as postgres.JSONValue),
        prev_hash: prevHash,
        hash,
      });
      prevHash = hash;
    }
    await sql`INSERT INTO audit_events ${sql(rows)}`;
  }
  return at;
}

async function latencies(server: ServerProcess, token: string, query: string, variables: unknown, samples = SAMPLES): Promise<{ p50: number; p99: number; data: unknown }> {
  const body = JSON.stringify({ query, variables });
  const times: number[] = [];
  let data: unknown;
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });
    const result = (await response.json()) as { data?: unknown; errors?: unknown };
    if (!response.ok || result.errors) throw new Error(`audit scale query failed: ${JSON.stringify(result.errors)}`);
    times.push(performance.now() - started);
    data = result.data;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]!, data };
}

const PAGE = `query ($filter: AuditFilter, $after: String) { audit(first: 50, filter: $filter, after: $after) { edges { node { id action } } } }`;
const COUNT = `query ($filter: AuditFilter) { audit(first: 1, filter: $filter) { totalCount } }`;
const VERIFY = `query ($fromCheckpoint: Boolean) { verifyAuditChain(fromCheckpoint: $fromCheckpoint) { ok checked } }`;

export async function benchAuditScale(server: ServerProcess, databaseUrl: string, adminToken: string): Promise<AuditScaleRow[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const rows: AuditScaleRow[] = [];
  try {
    // Seeded time runs from well before now, so every size stays in the past.
    let at = Date.now() - (Math.max(...SIZES) + 10_000) * STEP_MS;
    for (const size of SIZES) {
      const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM audit_events`;
      if (count < size) at = await appendEvents(sql, size - count, at);
      await sql`VACUUM ANALYZE audit_events`;
      const measure = async (name: string, query: string, variables: unknown, samples?: number) => {
        const { p50, p99 } = await latencies(server, adminToken, query, variables, samples);
        rows.push({ size, name, p50, p99 });
      };
      const { seq: top } = await head(sql);
      const [actor] = await sql<{ actor: string }[]>`SELECT actor_id AS actor FROM audit_events WHERE seq = ${String(top / 2n)}`;
      const hourEnd = new Date(at - size * STEP_MS * 0.5);
      await measure("audit: newest page (50)", PAGE, {});
      await measure("audit: a page from the middle (keyset)", PAGE, { after: Buffer.from((top / 2n).toString()).toString("base64url") });
      await measure("audit: one actor's events", PAGE, { filter: { actorId: actor!.actor } });
      await measure(`audit: a rare action (${RARE_ACTION})`, PAGE, { filter: { action: RARE_ACTION } });
      await measure("audit: an action prefix (auth.login.*)", PAGE, { filter: { action: "auth.login.*" } });
      await measure("audit: an hour's window", PAGE, { filter: { from: new Date(hourEnd.getTime() - 3_600_000).toISOString(), to: hourEnd.toISOString() } });
      await measure("audit: one actor's totalCount", COUNT, { filter: { actorId: actor!.actor } });
      // Once each: a full walk reads every event (and leaves a checkpoint at the head).
      await measure("verify: the whole chain", VERIFY, { fromCheckpoint: false }, 1);
      at = await appendEvents(sql, 1_000, at);
      await measure("verify: 1,000 new events since the checkpoint", VERIFY, { fromCheckpoint: true }, 1);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return rows;
}
