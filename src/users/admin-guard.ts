import { and, eq, isNull, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { userRoles, users } from "../db/schema";
import { ConflictError } from "../errors/errors";

/**
 * The server must always keep one usable administrator. Call inside the transaction that
 * would take ADMIN away from `userId` (revoke, disable, delete), after locking: it counts the
 * other live, enabled admins under a transaction-scoped advisory lock, so two concurrent
 * removals cannot both pass.
 */
const ADMIN_GUARD_LOCK = 726_340_121;

export async function assertNotLastAdmin(tx: DbOrTx, userId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMIN_GUARD_LOCK})`);
  const [isAdmin] = await tx
    .select({ userId: userRoles.userId })
    .from(userRoles)
    .where(and(eq(userRoles.userId, userId), eq(userRoles.roleName, "ADMIN")))
    .limit(1);
  if (!isAdmin) return;
  const [others] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(
      and(eq(userRoles.roleName, "ADMIN"), ne(userRoles.userId, userId), isNull(users.deletedAt), eq(users.status, "active")),
    );
  if ((others?.count ?? 0) === 0) {
    throw new ConflictError("This is the last administrator: grant ADMIN to someone else first");
  }
}
