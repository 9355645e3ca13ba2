import { and, eq, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { userRoles, users } from "../db/schema";

export type UserRow = typeof users.$inferSelect;

const live = isNull(users.deletedAt);

export async function findUserById(tx: DbOrTx, id: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(and(eq(users.id, id), live)).limit(1);
  return row;
}

export async function findUserByEmail(tx: DbOrTx, email: string): Promise<UserRow | undefined> {
  const [row] = await tx
    .select()
    .from(users)
    .where(and(sql`lower(${users.email}) = lower(${email})`, live))
    .limit(1);
  return row;
}

export async function findUserByUsername(tx: DbOrTx, username: string): Promise<UserRow | undefined> {
  const [row] = await tx
    .select()
    .from(users)
    .where(and(sql`lower(${users.username}) = lower(${username})`, live))
    .limit(1);
  return row;
}

/** Inserts a user; returns undefined when the email or username is taken (unique index). */
export async function insertUser(
  tx: DbOrTx,
  values: {
    email: string;
    username: string | null;
    passwordHash: string | null;
    emailVerifiedAt?: Date | null;
    passwordChangedAt?: Date | null;
  },
): Promise<UserRow | undefined> {
  const [row] = await tx.insert(users).values(values).onConflictDoNothing().returning();
  return row;
}

export async function recordLogin(tx: DbOrTx, userId: string, at: Date): Promise<void> {
  await tx.update(users).set({ lastLoginAt: at }).where(eq(users.id, userId));
}

/** Roles granted explicitly; USER is implicit and not stored. */
export async function grantedRoleNames(tx: DbOrTx, userId: string): Promise<string[]> {
  const rows = await tx.select({ name: userRoles.roleName }).from(userRoles).where(eq(userRoles.userId, userId));
  return rows.map((row) => row.name);
}

export async function grantRole(tx: DbOrTx, userId: string, roleName: string, grantedBy: string | null): Promise<void> {
  await tx.insert(userRoles).values({ userId, roleName, grantedBy }).onConflictDoNothing();
}

export async function countLiveUsersWithRole(tx: DbOrTx, roleName: string): Promise<number> {
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(and(eq(userRoles.roleName, roleName), live));
  return row?.count ?? 0;
}

export async function updateUser(tx: DbOrTx, userId: string, values: Partial<typeof users.$inferInsert>): Promise<void> {
  await tx.update(users).set(values).where(eq(users.id, userId));
}

/** Locks the user's row for the rest of the transaction (counters, MFA steps, password). */
export async function lockUser(tx: DbOrTx, userId: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(and(eq(users.id, userId), live)).limit(1).for("update");
  return row;
}
