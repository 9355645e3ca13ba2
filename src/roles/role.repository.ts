import { and, asc, eq, sql } from "drizzle-orm";
import type { RoleGraph, RoleNode } from "../auth/role-graph";
import type { DbOrTx } from "../db/database";
import { roleInherits, roles, userRoles } from "../db/schema";
import type { RoleDefinition } from "./role-rules";

/**
 * Serialises changes to role definitions across processes, so two concurrent edits cannot
 * each pass the cycle check and together close a cycle. Transaction-scoped; grant changes take
 * it too, so a role cannot be deleted under a grant being written. Taken before any row lock
 * and before the audit row (whose recorder takes its own lock last).
 */
const ROLE_DEFINITIONS_LOCK = 726_340_130;

export async function lockRoleDefinitions(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${ROLE_DEFINITIONS_LOCK})`);
}

/** Every role with its parents, sorted by name. */
export async function loadRoleDefinitions(tx: DbOrTx): Promise<RoleDefinition[]> {
  const rows = await tx.select().from(roles).orderBy(asc(roles.name));
  const edges = await tx.select().from(roleInherits).orderBy(asc(roleInherits.parentName));
  const byName = new Map<string, RoleDefinition>();
  for (const row of rows) {
    byName.set(row.name, {
      name: row.name,
      description: row.description,
      permissions: [...row.permissions].sort(),
      inherits: [],
      builtIn: row.builtIn,
    });
  }
  for (const edge of edges) byName.get(edge.roleName)?.inherits.push(edge.parentName);
  return [...byName.values()];
}

export function graphOf(definitions: readonly RoleDefinition[]): RoleGraph {
  return new Map<string, RoleNode>(
    definitions.map((definition) => [definition.name, { permissions: definition.permissions, inherits: definition.inherits }]),
  );
}

export async function insertRole(
  tx: DbOrTx,
  values: { name: string; description: string; permissions: string[]; at: Date },
): Promise<boolean> {
  const inserted = await tx
    .insert(roles)
    .values({ name: values.name, description: values.description, permissions: values.permissions, createdAt: values.at, updatedAt: values.at })
    .onConflictDoNothing()
    .returning({ name: roles.name });
  return inserted.length > 0;
}

export async function updateRole(
  tx: DbOrTx,
  name: string,
  values: { description: string; permissions: string[]; at: Date },
): Promise<void> {
  await tx
    .update(roles)
    .set({ description: values.description, permissions: values.permissions, updatedAt: values.at })
    .where(eq(roles.name, name));
}

export async function replaceInherits(tx: DbOrTx, name: string, parents: readonly string[]): Promise<void> {
  await tx.delete(roleInherits).where(eq(roleInherits.roleName, name));
  if (parents.length > 0) {
    await tx.insert(roleInherits).values(parents.map((parentName) => ({ roleName: name, parentName })));
  }
}

/** Deletes a role; its grants and inherit edges go with it (foreign keys cascade). */
export async function deleteRole(tx: DbOrTx, name: string): Promise<void> {
  await tx.delete(roles).where(eq(roles.name, name));
}

/** Users granted the role directly, sorted. */
export async function holdersOf(tx: DbOrTx, name: string): Promise<string[]> {
  const rows = await tx.select({ userId: userRoles.userId }).from(userRoles).where(eq(userRoles.roleName, name));
  return rows.map((row) => row.userId).sort();
}

/** Roles that inherit directly from the role, sorted. */
export async function childrenOf(tx: DbOrTx, name: string): Promise<string[]> {
  const rows = await tx.select({ name: roleInherits.roleName }).from(roleInherits).where(eq(roleInherits.parentName, name));
  return rows.map((row) => row.name).sort();
}

/** Grants a role; false when the user already held it. */
export async function insertGrant(tx: DbOrTx, userId: string, roleName: string, grantedBy: string, at: Date): Promise<boolean> {
  const inserted = await tx
    .insert(userRoles)
    .values({ userId, roleName, grantedBy, grantedAt: at })
    .onConflictDoNothing()
    .returning({ userId: userRoles.userId });
  return inserted.length > 0;
}

/** Removes a grant; false when the user did not hold it. */
export async function deleteGrant(tx: DbOrTx, userId: string, roleName: string): Promise<boolean> {
  const deleted = await tx
    .delete(userRoles)
    .where(and(eq(userRoles.userId, userId), eq(userRoles.roleName, roleName)))
    .returning({ userId: userRoles.userId });
  return deleted.length > 0;
}
