import { asc, lte, sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditAction } from "../../src/audit/audit-actions";
import { planAuditScan, readAuditScan, WINDOW_PROBE } from "../../src/audit/audit-scan";
import { auditBatchCall, type AuditEntry } from "../../src/audit/audit-recorder";
import { createAuditService } from "../../src/audit/audit.service";
import type { Principal } from "../../src/auth/principal";
import { auditEvents } from "../../src/db/schema";
import { checkedAuditFilter, matchesAuditFilter, type AuditFilterVariables } from "../support/audit-filter-oracle";
import { loginUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * The audit search reads a filtered page from where its rows are (an index's seqs, a
 * window's seq range) instead of walking down from the head; these tests hold it to the
 * plain definition of the filter on a trail built to trip it: times out of seq order, action
 * names the closed list does not have (and names with LIKE's own `%` and `_` in them), an
 * action only in the oldest events, windows both narrower and wider than the probe.
 */

type Row = typeof auditEvents.$inferSelect;
type Filter = AuditFilterVariables;

const EVENTS = WINDOW_PROBE + 1_500;
const START = Date.parse("2026-03-01T00:00:00Z");
/** Names as an older or newer build may have written them, beside today's. */
const ACTIONS = [
  "agent.action.decided",
  "agent.action.settled",
  "auth.login.succeeded",
  "auth.login.failed",
  "auth.loginx",
  "auth.login_old.kept",
  "auth.l%gin.odd",
  "legacy.auth.login",
  "auth.token.refreshed",
];
/** Only in the oldest events: a search for it finds nothing near the head. */
const OLD_ACTION = "admin.user.created";
const ACTORS = Array.from({ length: 12 }, (_, i) => `actor-${i}`);
const TARGETS = Array.from({ length: 40 }, (_, i) => `target-${i}`);
const OUTCOMES = ["success", "failure", "denied"] as const;

let server: TestServer;
let adminToken: string;
let rows: Row[];

/** A deterministic generator, so a failure names a trail that can be built again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

beforeAll(async () => {
  server = await startTestServer();
  adminToken = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  const next = random(13);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
  const { db } = server.app.database;
  for (let done = 0; done < EVENTS; done += 1_000) {
    const entries: { meta: { requestId: string; ip: null; userAgent: null }; entry: AuditEntry }[] = [];
    for (let i = done; i < Math.min(EVENTS, done + 1_000); i += 1) {
      // Mostly in order, 10 ms apart; one in twenty-five anywhere in the trail's span, and
      // a few far outside it.
      const roll = next();
      const at = roll < 0.04 ? START + Math.floor(next() * EVENTS * 10) : roll < 0.045 ? START + (next() < 0.5 ? -1 : 1) * 86_400_000 * 400 : START + i * 10;
      entries.push({
        meta: { requestId: "scan", ip: null, userAgent: null },
        entry: {
          actor: next() < 0.1 ? { type: "system" } : { type: next() < 0.5 ? "user" : "agent", id: pick(ACTORS) },
          action: (i < 400 && next() < 0.2 ? OLD_ACTION : pick(ACTIONS)) as AuditAction,
          outcome: pick(OUTCOMES),
          target: { type: "thing", id: pick(TARGETS) },
          at: new Date(at),
        },
      });
    }
    await db.execute(sql`SELECT ${auditBatchCall(entries)}`);
  }
  rows = await db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
}, 120_000);
afterAll(() => server.close());

const matches = matchesAuditFilter;

const QUERY = `query ($filter: AuditFilter, $first: Int, $after: String) {
  audit(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { seq } } }
}`;
interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: { seq: string } }[];
}

async function auditPage(filter: Filter, first: number, after?: string): Promise<Page> {
  const response = await server.client.raw<{ audit: Page }>(JSON.stringify({ query: QUERY, variables: { filter, first, after } }), { token: adminToken });
  expect(response.errors).toBeUndefined();
  return (response.data as { audit: Page }).audit;
}

/** Times to cut windows at: events' own instants (both sides of a bound) and the span's edges. */
const instant = () =>
  fc.oneof(
    fc.nat({ max: EVENTS - 1 }).map((i) => (rows[i] as Row).occurredAt.getTime()),
    fc.integer({ min: START - 1_000, max: START + EVENTS * 10 + 1_000 }),
  );
const windowArb = fc
  .tuple(instant(), fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: EVENTS * 12 })), fc.constantFrom("both", "from", "to"))
  .map(([start, length, sides]) => ({
    ...(sides === "to" ? {} : { from: new Date(start).toISOString() }),
    ...(sides === "from" ? {} : { to: new Date(start + length).toISOString() }),
  }));
const members = {
  actorId: fc.constantFrom(...ACTORS, "actor-none"),
  actorType: fc.constantFrom("USER", "AGENT", "SYSTEM"),
  action: fc.constantFrom(...ACTIONS, OLD_ACTION, "auth.login.*", "auth.login_*", "auth.l%*", "auth.*", "admin.*", "a*", "legacy.*", "none.*", "no.such.action"),
  targetId: fc.constantFrom(...TARGETS),
  outcome: fc.constantFrom("SUCCESS", "FAILURE", "DENIED"),
};
/** One member alone (a window's every event counts), one with a window, or any mix. */
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  windowArb,
  fc.record(members, { requiredKeys: [] }).chain((some) => windowArb.map((window) => ({ ...some, ...window }))),
  fc.record({ ...members, window: windowArb }, { requiredKeys: [] }).map(({ window, ...rest }) => ({ ...rest, ...window })),
  ...Object.entries(members).map(([key, value]) => value.map((member) => ({ [key]: member }) as Filter)),
);

describe("the audit search against the filter's definition", () => {
  it("finds a window's events when they outnumber the probe, and when they don't", () => {
    const wide = rows.filter((row) => matches(row, { from: new Date(START).toISOString() })).length;
    expect(wide).toBeGreaterThan(WINDOW_PROBE);
    expect(rows.some((row, i) => i > 0 && row.occurredAt < (rows[i - 1] as Row).occurredAt)).toBe(true);
  });

  it("pages newest first exactly as the filter defines, with the count", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, fc.constantFrom(1, 7, 50, 200), async (filter, first) => {
        const expected = rows.filter((row) => matches(row, filter)).reverse();
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 3; pages += 1) {
          const page = await auditPage(filter, first, after);
          if (pages === 0) expect(page.totalCount).toBe(expected.length);
          seen.push(...page.edges.map((edge) => edge.node.seq));
          expect(page.pageInfo.hasNextPage).toBe(seen.length < expected.length);
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor ?? undefined;
        }
        expect(seen).toEqual(expected.slice(0, seen.length).map((row) => row.seq.toString()));
        expect(seen.length).toBe(Math.min(expected.length, 3 * first));
      }),
      { numRuns: 150 },
    );
  }, 300_000);

  it("exports oldest first exactly as the filter defines", async () => {
    const audit = createAuditService({ db: server.app.database.db, exportPageSize: 97 });
    const principal = { kind: "user", userId: "00000000-0000-0000-0000-000000000001", permissions: new Set(["audit:export"]) } as unknown as Principal;
    const meta = { requestId: "scan-export", ip: null, userAgent: null };
    await fc.assert(
      fc.asyncProperty(filterArb, async (filter) => {
        const { upToSeq, pages } = await audit.beginExport(principal, meta, { filter: checkedAuditFilter(filter), format: "ndjson" });
        const seqs: bigint[] = [];
        for await (const page of pages) seqs.push(...page.map((row) => row.seq));
        // Each export adds its own record to the trail: read the trail as the export saw it.
        const trail = await server.app.database.db.select().from(auditEvents).where(lte(auditEvents.seq, upToSeq)).orderBy(asc(auditEvents.seq));
        const expected = trail.filter((row) => matches(row, filter)).map((row) => row.seq);
        expect(seqs).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  }, 300_000);

  it("reads wide windows from their own index, in either order, from any point, as the filter defines", async () => {
    // A probe of 40 events makes most windows wide, so those far behind the head drive the read.
    const { db } = server.app.database;
    // The trail as it is now (the exports above added their records to it).
    const trail = await db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    const order = fc.constantFrom("newest" as const, "oldest" as const);
    const cut = fc.option(fc.nat({ max: EVENTS + 1 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(filterArb, order, cut, fc.constantFrom(1, 13, 200), async (filter, direction, at, limit) => {
        const range = at === undefined ? {} : direction === "newest" ? { before: BigInt(at) } : { after: BigInt(at) };
        const scan = await planAuditScan(db, checkedAuditFilter(filter), 40);
        const found = scan === null ? [] : await readAuditScan(db, scan, direction, limit, range);
        const inRange = trail.filter((row) => (range.before === undefined || row.seq < range.before) && (range.after === undefined || row.seq > range.after));
        const expected = inRange.filter((row) => matches(row, filter));
        if (direction === "newest") expected.reverse();
        expect(found.map((row) => row.seq)).toEqual(expected.slice(0, limit).map((row) => row.seq));
      }),
      { numRuns: 200 },
    );
  }, 300_000);
});
