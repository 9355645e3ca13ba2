import { and, desc, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { agentApiKeys, agents } from "../db/tables/agents";

export type AgentRow = typeof agents.$inferSelect;
export type AgentApiKeyRow = typeof agentApiKeys.$inferSelect;

const live = isNull(agents.deletedAt);

export async function findAgent(tx: DbOrTx, id: string): Promise<AgentRow | undefined> {
  const [row] = await tx.select().from(agents).where(and(eq(agents.id, id), live)).limit(1);
  return row;
}

export async function listAgents(tx: DbOrTx, ownerId?: string): Promise<AgentRow[]> {
  return tx
    .select()
    .from(agents)
    .where(ownerId ? and(eq(agents.ownerId, ownerId), live) : live)
    .orderBy(desc(agents.createdAt))
    .limit(500);
}

export async function insertAgent(tx: DbOrTx, values: { ownerId: string; name: string; now: Date }): Promise<AgentRow> {
  const [row] = await tx
    .insert(agents)
    .values({ ownerId: values.ownerId, name: values.name, createdAt: values.now, updatedAt: values.now })
    .returning();
  return row as AgentRow;
}

export async function updateAgent(tx: DbOrTx, id: string, values: Partial<AgentRow>): Promise<void> {
  await tx.update(agents).set(values).where(eq(agents.id, id));
}

export async function listAgentKeys(tx: DbOrTx, agentId: string): Promise<AgentApiKeyRow[]> {
  return tx.select().from(agentApiKeys).where(eq(agentApiKeys.agentId, agentId)).orderBy(desc(agentApiKeys.createdAt));
}

export async function insertAgentKey(
  tx: DbOrTx,
  values: { id: string; agentId: string; secretHash: string; prefix: string; name: string | null; expiresAt: Date | null; now: Date },
): Promise<AgentApiKeyRow> {
  const [row] = await tx
    .insert(agentApiKeys)
    .values({
      id: values.id,
      agentId: values.agentId,
      secretHash: values.secretHash,
      prefix: values.prefix,
      name: values.name,
      expiresAt: values.expiresAt,
      createdAt: values.now,
    })
    .returning();
  return row as AgentApiKeyRow;
}

export async function findAgentKey(tx: DbOrTx, id: string): Promise<AgentApiKeyRow | undefined> {
  const [row] = await tx.select().from(agentApiKeys).where(eq(agentApiKeys.id, id)).limit(1);
  return row;
}

export async function revokeAgentKey(tx: DbOrTx, id: string, now: Date): Promise<boolean> {
  const rows = await tx
    .update(agentApiKeys)
    .set({ revokedAt: now })
    .where(and(eq(agentApiKeys.id, id), isNull(agentApiKeys.revokedAt)))
    .returning({ id: agentApiKeys.id });
  return rows.length > 0;
}

export async function touchAgentKey(tx: DbOrTx, id: string, now: Date): Promise<void> {
  await tx.update(agentApiKeys).set({ lastUsedAt: now }).where(eq(agentApiKeys.id, id));
}
