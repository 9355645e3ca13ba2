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
  totalCount: number;
  cursorOf(row: UserRow): string;
}

const MAX_PAGE = 200;
const EPOCH = new Date(0);

/**
 * The sort key of each order: a SQL expression and the same value read from a row.
 * Timestamps are cut to milliseconds in SQL, because that is all a JS Date (and so a
 * cursor) holds: comparing microseconds against a millisecond cursor would skip rows.
 */
const SORT_KEYS: Record<UserOrderField, { expr: SQL; value: (row: UserRow) => string }> = {
  CREATED_AT: { expr: sql`date_trunc('milliseconds', ${users.createdAt})`, value: (row) => row.createdAt.toISOString() },
  EMAIL: { expr: sql`lower(${users.email})`, value: (row) => row.email.toLowerCase() },
  LAST_LOGIN_AT: {
    expr: sql`date_trunc('milliseconds', coalesce(${users.lastLoginAt}, ${EPOCH.toISOString()}::timestamptz))`,
    value: (row) => (row.lastLoginAt ?? EPOCH).toISOString(),
  },
};

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

/** A cursor's sort value as `cursorOf` writes it: storable text, or a timestamp in ISO form. */
function isCursorValue(field: UserOrderField, value: string): boolean {
  if (field === "EMAIL") return isStorableText(value);
  const date = new Date(value);
  return isStorableDate(date) && date.toISOString() === value;
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
  const [counted] = await db.select({ count: sql<number>`count(*)::int` }).from(users).where(and(...where));
  const pageWhere = [...where];
  if (input.after) {
    const cursor = decodeCursor(input.order, input.after);
    const beyond = input.order.direction === "ASC" ? gt : lt;
    const castValue = input.order.field === "EMAIL" ? sql`${cursor.value}` : sql`${cursor.value}::timestamptz`;
    pageWhere.push(
      or(beyond(key.expr, castValue), and(eq(key.expr, castValue), beyond(users.id, cursor.id))) as SQL,
    );
  }
  const direction = input.order.direction === "ASC" ? asc : desc;
  const rows = await db
    .select()
    .from(users)
    .where(and(...pageWhere))
    .orderBy(direction(key.expr), direction(users.id))
    .limit(input.first + 1);
  return {
    rows: rows.slice(0, input.first),
    hasNextPage: rows.length > input.first,
    totalCount: counted?.count ?? 0,
    cursorOf: (row) => encodeCursor(input.order, key.value(row), row.id),
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
