import { and, asc, desc, eq, gt, gte, ilike, inArray, isNotNull, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { userRoles, users } from "../db/schema";
import { UserInputError } from "../errors/errors";
import { isUuid } from "../validation/ids";
import { isStorableDate, isStorableText } from "../validation/storable";
import type { UserRow } from "./user.repository";

export interface UserFilter {
  search?: string | null;
  role?: string | null;
  status?: "active" | "disabled" | "locked" | null;
  verified?: boolean | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

export type UserOrderField = "CREATED_AT" | "EMAIL" | "LAST_LOGIN_AT";
export interface UserOrder {
  field: UserOrderField;
  direction: "ASC" | "DESC";
}

export interface UserPage {
  rows: UserRow[];
  hasNextPage: boolean;
  /** Counts every match: a pass over all of them, so only when a client asks (`totalCount`). */
  countAll(): Promise<number>;
  cursorOf(row: UserRow): string;
}

const MAX_PAGE = 200;

/** A timestamp sort key: the expression, its cursor text (UTC, microseconds), and the cast back. */
function timestampKey(expr: SQL) {
  return {
    expr,
    cursorText: sql<string>`to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cast: (value: string) => sql`${value}::timestamptz`,
  };
}

/**
 * The sort key of each order: a SQL expression (an index serves each one, so a page is a
 * walk down an index, as cheap on the thousandth page as on the first; migration 0018 has
 * the same expressions) and its value in a cursor as text, read in SQL at full precision: a
 * timestamp cut to a JS Date's milliseconds would skip rows that differ below them.
 */
const SORT_KEYS: Record<UserOrderField, { expr: SQL; cursorText: SQL<string>; cast: (value: string) => SQL }> = {
  CREATED_AT: timestampKey(sql`${users.createdAt}`),
  EMAIL: { expr: sql`lower(${users.email})`, cursorText: sql<string>`lower(${users.email})`, cast: (value) => sql`${value}` },
  LAST_LOGIN_AT: timestampKey(sql`coalesce(${users.lastLoginAt}, '1970-01-01T00:00:00Z'::timestamptz)`),
};
/** A timestamp as cursorText writes it: UTC, microseconds. */
const CURSOR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function conditions(filter: UserFilter): SQL[] {
  const where: SQL[] = [isNull(users.deletedAt)];
  const search = filter.search?.trim();
  if (search) {
    if (search.length > 100) throw new UserInputError("Search text is at most 100 characters", "filter.search");
    const pattern = `%${escapeLike(search)}%`;
    where.push(or(ilike(users.email, pattern), ilike(users.username, pattern), ilike(users.displayName, pattern)) as SQL);
  }
  if (filter.role && filter.role !== "USER") {
    where.push(inArray(users.id, sql`(select ${userRoles.userId} from ${userRoles} where ${userRoles.roleName} = ${filter.role})`));
  }
  if (filter.status) where.push(eq(users.status, filter.status));
  if (filter.verified === true) where.push(isNotNull(users.emailVerifiedAt));
  if (filter.verified === false) where.push(isNull(users.emailVerifiedAt));
  if (filter.createdAfter) where.push(gte(users.createdAt, filter.createdAfter));
  if (filter.createdBefore) where.push(lte(users.createdAt, filter.createdBefore));
  if (filter.createdAfter && filter.createdBefore && filter.createdAfter > filter.createdBefore) {
    throw new UserInputError("createdAfter is later than createdBefore", "filter.createdAfter");
  }
  return where;
}

function encodeCursor(order: UserOrder, value: string, id: string): string {
  return Buffer.from(JSON.stringify([order.field, value, id])).toString("base64url");
}

/** A cursor's sort value as `cursorOf` writes it: storable text, or a timestamp as cursorText writes it. */
function isCursorValue(field: UserOrderField, value: string): boolean {
  if (field === "EMAIL") return isStorableText(value);
  return CURSOR_TIMESTAMP.test(value) && isStorableDate(new Date(value));
}

function decodeCursor(order: UserOrder, cursor: string): { value: string; id: string } {
  try {
    const [field, value, id] = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown[];
    if (field === order.field && typeof value === "string" && typeof id === "string" && isUuid(id) && isCursorValue(order.field, value)) {
      return { value, id };
    }
  } catch {
    // fall through
  }
  throw new UserInputError("Cursor is not valid for this query", "after");
}

/**
 * One page of live users, keyset-paginated on (sort key, id) so pages stay stable while
 * users are added: no duplicates or gaps, however deep the page.
 */
export async function findUserPage(
  db: DbOrTx,
  input: { filter: UserFilter; order: UserOrder; first: number; after?: string | null },
): Promise<UserPage> {
  if (!Number.isInteger(input.first) || input.first < 1 || input.first > MAX_PAGE) {
    throw new UserInputError(`first must be between 1 and ${MAX_PAGE}`, "first");
  }
  const key = SORT_KEYS[input.order.field];
  const where = conditions(input.filter);
  const pageWhere = [...where];
  if (input.after) {
    const cursor = decodeCursor(input.order, input.after);
    // A row comparison: the index on (key, id) seeks straight to the cursor.
    const operator = input.order.direction === "ASC" ? sql`>` : sql`<`;
    pageWhere.push(sql`(${key.expr}, ${users.id}) ${operator} (${key.cast(cursor.value)}, ${cursor.id}::uuid)`);
  }
  const direction = input.order.direction === "ASC" ? asc : desc;
  const rows = await db
    .select({ user: users, cursorText: key.cursorText })
    .from(users)
    .where(and(...pageWhere))
    .orderBy(direction(key.expr), direction(users.id))
    .limit(input.first + 1);
  const cursors = new Map(rows.map((row) => [row.user.id, row.cursorText]));
  let counted: Promise<number> | undefined;
  return {
    rows: rows.slice(0, input.first).map((row) => row.user),
    hasNextPage: rows.length > input.first,
    countAll: () =>
      (counted ??= db
        .select({ count: sql<number>`count(*)::int` })
        .from(users)
        .where(and(...where))
        .then(([row]) => row?.count ?? 0)),
    cursorOf: (row) => encodeCursor(input.order, cursors.get(row.id) ?? "", row.id),
  };
}

/** Granted roles of many users in one query. */
export async function grantedRolesOf(db: DbOrTx, userIds: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return result;
  const rows = await db.select().from(userRoles).where(inArray(userRoles.userId, userIds));
  for (const row of rows) result.get(row.userId)?.push(row.roleName);
  return result;
}
