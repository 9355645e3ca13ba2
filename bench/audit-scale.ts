/**
 * How the audit query and chain verification grow with the trail: the trail is extended to
 * each size in turn (100,000, 1,000,000 and 5,000,000 events by default; BENCH_SCALE_AUDIT
 * to change), each row chained to the one before it by the recorder's own database function, in
 * batches of 4,000, then an admin asks, one request at a time:
 * the newest page, a page from the middle (keyset cursor), one actor's events, one rare
 * action, an action prefix, an action and a prefix last seen among the oldest events, the
 * failures, a minute's and an hour's window, and one actor's `totalCount`; p50 and p99
 * over SAMPLES requests each. Verification is timed once per size: the full walk (every
 * event, linear by nature) and a routine check from the latest checkpoint after 1,000 new
 * events, which must read only those.
 */
import crypto from "node:crypto";
import postgres from "postgres";
import type { AuditAction } from "../src/audit/audit-actions";
import { AUDIT_CHAIN_LOCK_KEY, auditLines, type AuditEntry } from "../src/audit/audit-recorder";
import type { RequestMeta } from "../src/request-meta";
import { encodeCursor } from "../src/audit/audit-filter";
import type { ServerProcess } from "../tests/support/server-process";
import { latencies, type ScaleRow } from "./scale";

const SIZES = (process.env.BENCH_SCALE_AUDIT ?? "100000,1000000,5000000").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 200);
/** Rows per INSERT: 13 columns stay under PostgreSQL's 65,535 parameters. */
const BATCH = 4_000;
/** Seeded events are 10 ms apart, so a million of them span about three hours. */
const STEP_MS = 10;
const ACTORS = 20_000;
/** What the seeded trail is made of: mostly decisions and sign-ins, a few rare events. */
const ACTIONS: [AuditAction, number][] = [
  ["agent.action.decided", 0.6],
  ["auth.login.succeeded", 0.2],
  ["auth.token.refreshed", 0.15],
  ["auth.login.failed", 0.045],
  ["auth.password.changed", 0.005],
];
const RARE_ACTION = "auth.password.changed";
/** Written only among the first OLD_SPAN events: nothing near the head matches it. */
const OLD_ACTION = "admin.user.created";
const OLD_SPAN = 50_000;

/** The highest seq written so far. */
async function headSeq(sql: postgres.Sql): Promise<bigint> {
  const [row] = await sql<{ seq: string | null }[]>`SELECT max(seq)::text AS seq FROM audit_events`;
  return BigInt(row?.seq ?? 0);
}

function actionAt(roll: number, index: number): AuditAction {
  if (index < OLD_SPAN && roll < 0.01) return OLD_ACTION;
  let sum = 0;
  for (const [action, share] of ACTIONS) {
    sum += share;
    if (roll < sum) return action;
  }
  return ACTIONS[0]![0];
}

/**
 * Appends `count` events after the current head, in batches, through the database function
 * the recorder uses (it takes the chain lock and hashes each row onto the one before).
 */
async function appendEvents(sql: postgres.Sql, count: number, startAt: number): Promise<number> {
  let at = startAt;
  let index = Number(await headSeq(sql));
  for (let done = 0; done < count; done += BATCH) {
    const entries: { meta: RequestMeta; entry: AuditEntry }[] = [];
    for (let i = 0; i < Math.min(BATCH, count - done); i += 1) {
      at += STEP_MS;
      const action = actionAt(Math.random(), index);
      index += 1;
      entries.push({
        meta: { requestId: "seeded", ip: "10.0.0.1", userAgent: "seeded" },
        entry: {
          actor: { type: "user", id: `actor-${crypto.randomInt(ACTORS)}` },
          action,
          outcome: action === "auth.login.failed" ? "failure" : "success",
          target: { type: "agent_action", id: crypto.randomUUID() },
          details: { cost: String(crypto.randomInt(10_000)) },
          at: new Date(at),
        },
      });
    }
    await sql`SELECT audit_append_lines(${AUDIT_CHAIN_LOCK_KEY}, ${auditLines(entries)}::text)`;
  }
  return at;
}

const PAGE = `query ($filter: AuditFilter, $after: String) { audit(first: 50, filter: $filter, after: $after) { edges { node { id action } } } }`;
const COUNT = `query ($filter: AuditFilter) { audit(first: 1, filter: $filter) { totalCount } }`;
const VERIFY = `query ($fromCheckpoint: Boolean) { verifyAuditChain(fromCheckpoint: $fromCheckpoint) { ok checked } }`;

/** `signIn` gives a fresh admin access token: seeding a size outlasts one. */
export async function benchAuditScale(server: ServerProcess, databaseUrl: string, signIn: () => Promise<string>): Promise<ScaleRow[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const rows: ScaleRow[] = [];
  try {
    // Seeded time runs from well before now, so every size stays in the past.
    let at = Date.now() - (Math.max(...SIZES) + 10_000) * STEP_MS;
    for (const size of SIZES) {
      const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM audit_events`;
      if (count < size) at = await appendEvents(sql, size - count, at);
      await sql`VACUUM ANALYZE audit_events`;
      const adminToken = await signIn();
      const measure = async (name: string, query: string, variables: unknown, samples?: number) => {
        const { p50, p99 } = await latencies(server, adminToken, query, variables, samples);
        rows.push({ size, name, p50, p99 });
      };
      const top = await headSeq(sql);
      const [actor] = await sql<{ actor: string }[]>`SELECT actor_id AS actor FROM audit_events WHERE seq = ${String(top / 2n)}`;
      const windowEnd = new Date(at - size * STEP_MS * 0.5);
      await measure("audit: newest page (50)", PAGE, {});
      await measure("audit: a page from the middle (keyset)", PAGE, { after: encodeCursor(top / 2n) });
      await measure("audit: one actor's events", PAGE, { filter: { actorId: actor!.actor } });
      await measure(`audit: a rare action (${RARE_ACTION})`, PAGE, { filter: { action: RARE_ACTION } });
      await measure("audit: an action prefix (auth.login.*)", PAGE, { filter: { action: "auth.login.*" } });
      await measure(`audit: an action last seen long ago (${OLD_ACTION})`, PAGE, { filter: { action: OLD_ACTION } });
      await measure("audit: a prefix last seen long ago (admin.*)", PAGE, { filter: { action: "admin.*" } });
      await measure("audit: failures (outcome FAILURE)", PAGE, { filter: { outcome: "FAILURE" } });
      // 6,000 events at the seeded density (100 a second): a busy minute.
      await measure("audit: a minute's window, mid-trail", PAGE, { filter: { from: new Date(windowEnd.getTime() - 60_000).toISOString(), to: windowEnd.toISOString() } });
      // 360,000 events: wider than the window probe, so read by the walk from the head.
      await measure("audit: an hour's window, mid-trail", PAGE, { filter: { from: new Date(windowEnd.getTime() - 3_600_000).toISOString(), to: windowEnd.toISOString() } });
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
