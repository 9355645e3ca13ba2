import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "../db/database";
import { auditEvents } from "../db/schema";
import { actionPrefix, type AuditFilter } from "./audit-filter";

/**
 * How a filtered page of the trail is read without walking the trail.
 *
 * Read newest first with a LIMIT, PostgreSQL walks the primary key down from the head and
 * filters, betting that matches are spread evenly. The trail is not like that: an action
 * last seen a month ago (or a prefix of such actions) or a window in the past lies behind
 * every event written since, and that walk grows with the trail. So the page is read from
 * where its rows are:
 * - an indexed equality (target, actor, exact action, a failure or denial outcome; a prefix
 *   expands to the action names the trail holds) drives: its `(column, seq)` index gives
 *   the candidates' seqs in order, index only, and each is checked against the rest of the
 *   filter until the page is full;
 * - a window with an end narrows the seq range to the window's own events first, read
 *   from the `(occurred_at, seq)` index, when it holds at most WINDOW_PROBE of them. A wider
 *   window further behind the head than it is long drives itself: its events' seqs are read
 *   from that index and sorted (the cost of the window, not of the trail after it).
 * Both only narrow where the rows are looked for; every row is still checked against the
 * whole filter, so the result is exactly that of the plain query.
 */

/** Exclusive seq bounds (either may be open). */
export interface SeqRange {
  after?: bigint;
  before?: bigint;
}

/** A window of up to this many events is read through its own index first. */
export const WINDOW_PROBE = 10_000;
/** Beyond this many distinct action names in the trail, a prefix is matched by LIKE. */
const MAX_PREFIX_NAMES = 1_000;
/** A prefix naming more actions than this is not read name by name (one merged read each). */
const MAX_MERGED_NAMES = 100;

/**
 * Where a page's candidates come from: one condition per ordered read (an indexed value, with
 * its partial index's predicate where it has one; or a wide window, read from its index and
 * sorted), merged in seq order.
 */
interface Driver {
  readonly branches: readonly SQL[];
  /** True when the branches decide the whole filter: every candidate matches, no check needed. */
  readonly complete: boolean;
}

/** A driver whose branches decide the filter members `decides`. */
function driverFor(filter: AuditFilter, branches: SQL[], decides: readonly (keyof AuditFilter)[]): Driver {
  const complete = (Object.keys(filter) as (keyof AuditFilter)[]).every((member) => filter[member] === undefined || decides.includes(member));
  return { branches, complete };
}

const equalTo = (filter: AuditFilter, member: keyof AuditFilter, column: SQLWrapper, values: readonly string[], predicate?: SQL): Driver =>
  driverFor(
    filter,
    values.map((value) => and(sql`${column} = ${value}`, predicate) as SQL),
    [member],
  );

/**
 * A filter made ready to read, once per request (a page and its count, or every page of an
 * export, share it): the conditions every row must meet, the seq range its window's events
 * lie in, and where candidates come from. A cursor narrows the range when a page is read.
 */
export interface AuditScan {
  readonly conditions: readonly SQL[];
  readonly range: SeqRange;
  readonly driver?: Driver;
  /**
   * A window too wide to narrow the range: it drives a page when it lies far behind the
   * head (asked once, and only when a page is read).
   */
  readonly wideWindow?: { readonly driver: Driver; readonly farBehind: () => Promise<boolean> };
}

/** The predicate of the partial index on failures and denials, word for word. */
const UNSUCCESSFUL = sql`${auditEvents.outcome} <> 'success'`;

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (char) => `\\${char}`);

/**
 * The action names in the trail that start with `prefix`, read by skipping through the
 * `(action, seq)` index one distinct name at a time (dozens of probes, whatever the trail's
 * length). Undefined when there are more than MAX_PREFIX_NAMES names in all.
 */
async function actionNamesUnder(db: DbOrTx, prefix: string): Promise<string[] | undefined> {
  const rows = rowsOf<{ action: string; n: number }>(await db.execute(sql`
    WITH RECURSIVE names(action, n) AS (
      SELECT min(action), 1 FROM audit_events
      UNION ALL
      SELECT (SELECT min(e.action) FROM audit_events e WHERE e.action > names.action), n + 1
      FROM names WHERE names.action IS NOT NULL AND n <= ${MAX_PREFIX_NAMES}
    )
    SELECT action, n FROM names WHERE action IS NOT NULL`));
  if (rows.some((row) => Number(row.n) > MAX_PREFIX_NAMES)) return undefined;
  // LIKE with an escaped prefix is a plain prefix test of the characters, as startsWith is.
  return rows.map((row) => row.action).filter((action) => action.startsWith(prefix));
}

/**
 * The seq range of a window's events when it holds at most `probe` of them (null when
 * it holds none), else undefined: read index only, in the index's order (so the planner
 * never reads the table from its start instead), so a window costs its own size.
 */
async function windowSeqRange(db: DbOrTx, bounds: SQL, probe: number): Promise<SeqRange | null | undefined> {
  const [row] = rowsOf<{ lo: string | null; hi: string | null; n: number }>(await db.execute(sql`
    SELECT min(seq)::text AS lo, max(seq)::text AS hi, count(*)::int AS n
    FROM (SELECT ${auditEvents.seq} AS seq FROM ${auditEvents} WHERE ${bounds} ORDER BY ${auditEvents.occurredAt} LIMIT ${probe + 1}) w`));
  if (!row || Number(row.n) > probe) return undefined;
  if (row.lo === null || row.hi === null) return null;
  return { after: BigInt(row.lo) - 1n, before: BigInt(row.hi) + 1n };
}

/**
 * Whether a wide window lies further from the head than it is long, judged by the seqs of its
 * earliest and latest stamped events (two index probes; times are nearly in seq order). Then
 * reading the window's own events in seq order costs less than the walk down to it. Only the
 * plan depends on this guess, never the result.
 */
async function windowIsFarBehind(db: DbOrTx, bounds: SQL): Promise<boolean> {
  const [row] = rowsOf<{ head: string | null; first: string | null; last: string | null }>(await db.execute(sql`
    SELECT (SELECT max(${auditEvents.seq}) FROM ${auditEvents})::text AS head,
      (SELECT ${auditEvents.seq} FROM ${auditEvents} WHERE ${bounds} ORDER BY ${auditEvents.occurredAt}, ${auditEvents.seq} LIMIT 1)::text AS first,
      (SELECT ${auditEvents.seq} FROM ${auditEvents} WHERE ${bounds} ORDER BY ${auditEvents.occurredAt} DESC, ${auditEvents.seq} DESC LIMIT 1)::text AS last`));
  if (!row || row.head === null || row.first === null || row.last === null) return false;
  const last = BigInt(row.last);
  return BigInt(row.head) - last > last - BigInt(row.first);
}

function narrow(range: SeqRange, other: SeqRange): SeqRange {
  const pick = (a: bigint | undefined, b: bigint | undefined, keep: (x: bigint, y: bigint) => bigint) =>
    a === undefined ? b : b === undefined ? a : keep(a, b);
  return {
    after: pick(range.after, other.after, (x, y) => (x > y ? x : y)),
    before: pick(range.before, other.before, (x, y) => (x < y ? x : y)),
  };
}

/** Whether the range holds no seq at all. */
const isEmpty = (range: SeqRange) => range.after !== undefined && range.before !== undefined && range.before - range.after < 2n;

/** Runs `ask` once, on the first call. */
function once<T>(ask: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => (answer ??= ask());
}

/**
 * Null when nothing can match (a prefix no action has, an empty window).
 * `windowProbe`: the widest window narrowed by its own events (WINDOW_PROBE; tests lower it).
 */
export async function planAuditScan(db: DbOrTx, filter: AuditFilter, windowProbe = WINDOW_PROBE): Promise<AuditScan | null> {
  const conditions: SQL[] = [];
  let driver: Driver | undefined;
  if (filter.targetId !== undefined) driver = equalTo(filter, "targetId", auditEvents.targetId, [filter.targetId]);
  else if (filter.actorId !== undefined) driver = equalTo(filter, "actorId", auditEvents.actorId, [filter.actorId]);
  if (filter.action !== undefined) {
    const prefix = actionPrefix(filter.action);
    const names = prefix === undefined ? [filter.action] : await actionNamesUnder(db, prefix);
    if (names?.length === 0) return null;
    if (names === undefined) conditions.push(sql`${auditEvents.action} LIKE ${`${escapeLike(prefix as string)}%`}`);
    else {
      conditions.push(names.length === 1 ? eq(auditEvents.action, names[0] as string) : inArray(auditEvents.action, names));
      if (names.length <= MAX_MERGED_NAMES) driver ??= equalTo(filter, "action", auditEvents.action, names);
    }
  }
  if (filter.outcome !== undefined && filter.outcome !== "success") {
    driver ??= equalTo(filter, "outcome", auditEvents.outcome, [filter.outcome], UNSUCCESSFUL);
  }
  if (filter.actorId !== undefined) conditions.push(eq(auditEvents.actorId, filter.actorId));
  if (filter.actorType !== undefined) conditions.push(eq(auditEvents.actorType, filter.actorType));
  if (filter.targetType !== undefined) conditions.push(eq(auditEvents.targetType, filter.targetType));
  if (filter.targetId !== undefined) conditions.push(eq(auditEvents.targetId, filter.targetId));
  if (filter.outcome !== undefined) conditions.push(eq(auditEvents.outcome, filter.outcome));
  const window = and(filter.from === undefined ? undefined : gte(auditEvents.occurredAt, filter.from), filter.to === undefined ? undefined : lt(auditEvents.occurredAt, filter.to));
  if (window !== undefined) conditions.push(window);
  // A window open towards the head is read by the walk from the head, where its events are.
  if (window === undefined || filter.to === undefined) return { conditions, range: {}, driver };
  const range = await windowSeqRange(db, window, windowProbe);
  if (range === null) return null;
  if (range !== undefined || driver !== undefined) return { conditions, range: range ?? {}, driver };
  const wideWindow = { driver: driverFor(filter, [window], ["from", "to"]), farBehind: once(() => windowIsFarBehind(db, window)) };
  return { conditions, range: {}, wideWindow };
}

function rangeConditions(range: SeqRange): SQL[] {
  const where: SQL[] = [];
  if (range.after !== undefined) where.push(gt(auditEvents.seq, range.after));
  if (range.before !== undefined) where.push(lt(auditEvents.seq, range.before));
  return where;
}

/**
 * Up to `limit` matching rows in seq order (`newest`: descending) within `cursor`. With a
 * driver, the page's seqs come from its index (one ordered index-only scan per value,
 * merged), each checked against the whole filter by primary key (unless the driver decides
 * the whole filter); OFFSET 0 keeps PostgreSQL from flattening either step back into the walk
 * from the head.
 */
export async function readAuditScan(db: DbOrTx, scan: AuditScan, order: "newest" | "oldest", limit: number, cursor: SeqRange = {}) {
  const bounds = narrow(scan.range, cursor);
  if (isEmpty(bounds)) return [];
  const byOrder = order === "newest" ? desc(auditEvents.seq) : asc(auditEvents.seq);
  const range = rangeConditions(bounds);
  const driver = scan.driver ?? (scan.wideWindow && (await scan.wideWindow.farBehind()) ? scan.wideWindow.driver : undefined);
  if (driver === undefined) {
    return db.select().from(auditEvents).where(and(...scan.conditions, ...range)).orderBy(byOrder).limit(limit);
  }
  const direction = order === "newest" ? sql.raw("DESC") : sql.raw("ASC");
  const branches = driver.branches.map(
    (branch) => sql`(SELECT ${auditEvents.seq} FROM ${auditEvents} WHERE ${and(branch, ...range)} ORDER BY ${auditEvents.seq} ${direction})`,
  );
  const candidates = sql`SELECT seq FROM (${sql.join(branches, sql` UNION ALL `)}) candidates ORDER BY seq ${direction} OFFSET 0`;
  const page = driver.complete
    ? sql`SELECT d.seq FROM (${candidates}) d LIMIT ${limit}`
    : sql`
      SELECT d.seq FROM (${candidates}) d
      CROSS JOIN LATERAL (SELECT 1 FROM ${auditEvents} WHERE ${and(sql`${auditEvents.seq} = d.seq`, ...scan.conditions)} OFFSET 0) matched
      ORDER BY d.seq ${direction} LIMIT ${limit}`;
  return db.select().from(auditEvents).where(sql`${auditEvents.seq} IN (${page})`).orderBy(byOrder);
}

/** Every condition of the scan, range included, for a count. */
export function scanConditions(scan: AuditScan): SQL | undefined {
  return and(...scan.conditions, ...rangeConditions(scan.range));
}
