import { and, asc, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { policies, policyVersions, roles, type StoredPolicySnapshot } from "../db/schema";
import type { PolicyScope } from "../policy/policy-types";
import { fromRow, fromSnapshot, type PolicyChange, type PolicyRecord, type PolicyRow, type PolicyVersionRecord } from "./policy-codec";

const live = isNull(policies.deletedAt);

export type NewPolicyRow = typeof policies.$inferInsert;

export async function insertPolicy(tx: DbOrTx, values: NewPolicyRow): Promise<PolicyRecord> {
  const [row] = await tx.insert(policies).values(values).returning();
  return fromRow(row as PolicyRow);
}

/** A policy, deleted ones included; with `lock`, its row is locked for the transaction. */
export async function findPolicy(tx: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<PolicyRecord | undefined> {
  const query = tx.select().from(policies).where(eq(policies.id, id)).limit(1);
  const [row] = options.lock ? await query.for("update") : await query;
  return row && fromRow(row);
}

export async function updatePolicy(tx: DbOrTx, id: string, values: Partial<NewPolicyRow>): Promise<PolicyRecord> {
  const [row] = await tx.update(policies).set(values).where(eq(policies.id, id)).returning();
  return fromRow(row as PolicyRow);
}

export async function insertVersion(
  tx: DbOrTx,
  values: { policyId: string; version: number; change: PolicyChange; snapshot: StoredPolicySnapshot; changedBy: string | null; changedAt: Date },
): Promise<void> {
  await tx.insert(policyVersions).values(values);
}

export interface PolicyFilter {
  scope?: PolicyScope | null;
  scopeId?: string | null;
  /** Only these: USER policies of `userId` and AGENT policies of `agentIds` (an owner's view). */
  ownedBy?: { userId: string; agentIds: readonly string[] };
}

/** Live policies matching the filter, broadest scope first, then by name and id. */
export async function listPolicies(tx: DbOrTx, filter: PolicyFilter): Promise<PolicyRecord[]> {
  const conditions: (SQL | undefined)[] = [live];
  if (filter.scope) conditions.push(eq(policies.scope, filter.scope));
  if (filter.scopeId) conditions.push(eq(policies.scopeId, filter.scopeId));
  if (filter.ownedBy) {
    const { userId, agentIds } = filter.ownedBy;
    conditions.push(
      or(
        and(eq(policies.scope, "USER"), eq(policies.scopeId, userId)),
        agentIds.length > 0 ? and(eq(policies.scope, "AGENT"), inArray(policies.scopeId, [...agentIds])) : undefined,
      ),
    );
  }
  const rows = await tx
    .select()
    .from(policies)
    .where(and(...conditions))
    .orderBy(asc(policies.scope), asc(policies.name), asc(policies.id));
  return rows.map(fromRow);
}

/**
 * The live, enabled policies of an agent's scopes (any mode): GLOBAL, ROLE of `roles`, USER
 * of the owner, AGENT of the agent.
 */
export async function applicablePolicies(
  tx: DbOrTx,
  target: { agentId: string; ownerId: string; roles: readonly string[] },
): Promise<PolicyRecord[]> {
  const rows = await tx
    .select()
    .from(policies)
    .where(
      and(
        live,
        eq(policies.enabled, true),
        or(
          eq(policies.scope, "GLOBAL"),
          target.roles.length > 0 ? and(eq(policies.scope, "ROLE"), inArray(policies.scopeId, [...target.roles])) : undefined,
          and(eq(policies.scope, "USER"), eq(policies.scopeId, target.ownerId)),
          and(eq(policies.scope, "AGENT"), eq(policies.scopeId, target.agentId)),
        ),
      ),
    )
    .orderBy(asc(policies.scope), asc(policies.id));
  return rows.map(fromRow);
}

function versionRecord(row: typeof policyVersions.$inferSelect): PolicyVersionRecord {
  return {
    policyId: row.policyId,
    version: row.version,
    change: row.change,
    changedAt: row.changedAt,
    changedBy: row.changedBy,
    snapshot: fromSnapshot(row.snapshot),
  };
}

export async function listVersions(tx: DbOrTx, policyId: string): Promise<PolicyVersionRecord[]> {
  const rows = await tx.select().from(policyVersions).where(eq(policyVersions.policyId, policyId)).orderBy(asc(policyVersions.version));
  return rows.map(versionRecord);
}

export async function findVersion(tx: DbOrTx, policyId: string, version: number): Promise<PolicyVersionRecord | undefined> {
  const [row] = await tx
    .select()
    .from(policyVersions)
    .where(and(eq(policyVersions.policyId, policyId), eq(policyVersions.version, version)))
    .limit(1);
  return row && versionRecord(row);
}

export async function roleExists(tx: DbOrTx, name: string): Promise<boolean> {
  const rows = await tx.select({ name: roles.name }).from(roles).where(eq(roles.name, name)).limit(1);
  return rows.length > 0;
}
