import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { hasPermission, type Principal } from "../auth/principal";
import type { PrincipalVersions } from "../auth/principal-versions";
import type { Clock } from "../clock";
import type { AuditActor } from "../audit/audit-recorder";
import type { Db, Tx } from "../db/database";
import { ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { newAgentKey } from "./agent-keys";
import {
  findAgent,
  findAgentKey,
  insertAgent,
  insertAgentKey,
  listAgentKeys,
  listAgents,
  revokeAgentKey,
  updateAgent,
  type AgentApiKeyRow,
  type AgentRow,
} from "./agent.repository";
import { assertMayActOn } from "../users/authority";
import { assertUuid } from "../validation/ids";
import { enqueueWebhookEvents } from "../webhooks/webhook-events";
import { agentKeyRevoked, agentSuspended } from "../webhooks/webhook-payloads";

export interface AgentService {
  list(principal: Principal, ownerId?: string | null): Promise<AgentRow[]>;
  get(principal: Principal, id: string): Promise<AgentRow>;
  create(principal: Principal, name: string, meta: RequestMeta): Promise<AgentRow>;
  rename(principal: Principal, id: string, name: string, meta: RequestMeta): Promise<AgentRow>;
  setSuspended(principal: Principal, id: string, suspended: boolean, meta: RequestMeta): Promise<AgentRow>;
  delete(principal: Principal, id: string, meta: RequestMeta): Promise<true>;
  keys(principal: Principal, agentId: string): Promise<AgentApiKeyRow[]>;
  /** Returns the key once; only its hash is kept. */
  createKey(principal: Principal, agentId: string, input: { name?: string | null; expiresAt?: Date | null }, meta: RequestMeta): Promise<{ key: string; row: AgentApiKeyRow }>;
  revokeKey(principal: Principal, keyId: string, meta: RequestMeta): Promise<boolean>;
}


/**
 * What an agent holds on the spend ledger, released when it is suspended or deleted (the
 * action lifecycle's release step, passed in by the composition root: agents do not depend
 * on actions). Runs inside the caller's transaction and audits each release there.
 */
export interface AgentHoldings {
  releaseAll(tx: Tx, agentId: string, by: AuditActor, reason: string, meta: RequestMeta): Promise<number>;
}

function agentName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100) throw new UserInputError("Agent name must be 1 to 100 characters", "name");
  return name;
}

/**
 * Agents and their API keys. People manage their own agents; `agents:read` sees everyone's,
 * `agents:write` manages everyone's. Every change is audited in its transaction, and the
 * agent's stamp is bumped after it so a suspended agent or revoked key stops at once
 * on every process.
 */
export function createAgentService(deps: { db: Db; versions: PrincipalVersions; clock: Clock; holdings: AgentHoldings }): AgentService {
  const { db, versions, clock, holdings } = deps;

  async function visible(principal: Principal, id: string, write: boolean): Promise<AgentRow> {
    assertUuid(id, "id", "Not a valid agent id");
    const agent = await findAgent(db, id);
    const mayRead = agent && (agent.ownerId === principal.userId || hasPermission(principal, "agents:read") || hasPermission(principal, "agents:write"));
    if (!agent || !mayRead) throw new NotFoundError("No such agent");
    if (write && agent.ownerId !== principal.userId) {
      if (!hasPermission(principal, "agents:write")) throw new ForbiddenError("Managing another user's agents needs agents:write");
      // An agent acts under its owner's role policies: a key minted for a superior's agent
      // would be their authority in the caller's hands.
      await assertMayActOn(db, principal, agent.ownerId);
    }
    return agent;
  }

  /**
   * Writes the change and its audit row; when the agent stops (suspended or deleted), its
   * open reservations and holds are released in the same transaction, so its owner's room
   * is free for a replacement at once.
   */
  async function change(principal: Principal, agent: AgentRow, values: Partial<AgentRow>, action: AuditAction, meta: RequestMeta) {
    const now = clock.now();
    const stops = action === AuditAction.AGENT_SUSPENDED || action === AuditAction.AGENT_DELETED;
    await db.transaction(async (tx) => {
      await updateAgent(tx, agent.id, { ...values, updatedAt: now });
      const by = { type: "user", id: principal.userId } as const;
      const released = stops ? await holdings.releaseAll(tx, agent.id, by, action, meta) : 0;
      if (action === AuditAction.AGENT_SUSPENDED) await enqueueWebhookEvents(tx, [agentSuspended(agent, principal.userId, released, now)]);
      await recordAudit(tx, meta, {
        actor: by,
        action,
        outcome: "success",
        target: { type: "agent", id: agent.id },
        details: {
          before: { name: agent.name, status: agent.status },
          after: { name: values.name ?? agent.name, status: values.status ?? agent.status },
          ...(stops ? { releasedActions: released } : {}),
        },
      });
    });
    await versions.bumpAgent(agent.id);
    return { ...agent, ...values, updatedAt: now };
  }

  return {
    async list(principal, ownerId) {
      if (ownerId && ownerId !== principal.userId && !hasPermission(principal, "agents:read")) {
        throw new ForbiddenError("Listing another user's agents needs agents:read");
      }
      const all = ownerId === undefined || ownerId === null;
      if (all && !hasPermission(principal, "agents:read")) return listAgents(db, principal.userId);
      return listAgents(db, all ? undefined : ownerId);
    },

    get: (principal, id) => visible(principal, id, false),

    async create(principal, name, meta) {
      const agent = await db.transaction(async (tx) => {
        const created = await insertAgent(tx, { ownerId: principal.userId, name: agentName(name), now: clock.now() });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.AGENT_CREATED,
          outcome: "success",
          target: { type: "agent", id: created.id },
          details: { name: created.name },
        });
        return created;
      });
      return agent;
    },

    async rename(principal, id, name, meta) {
      return change(principal, await visible(principal, id, true), { name: agentName(name) }, AuditAction.AGENT_UPDATED, meta);
    },

    async setSuspended(principal, id, suspended, meta) {
      const agent = await visible(principal, id, true);
      return change(principal, agent, { status: suspended ? "suspended" : "active" }, suspended ? AuditAction.AGENT_SUSPENDED : AuditAction.AGENT_RESUMED, meta);
    },

    async delete(principal, id, meta) {
      const agent = await visible(principal, id, true);
      await change(principal, agent, { deletedAt: clock.now(), status: "suspended" }, AuditAction.AGENT_DELETED, meta);
      return true;
    },

    async keys(principal, agentId) {
      return listAgentKeys(db, (await visible(principal, agentId, false)).id);
    },

    async createKey(principal, agentId, input, meta) {
      const agent = await visible(principal, agentId, true);
      const now = clock.now();
      if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) throw new UserInputError("expiresAt must be in the future", "expiresAt");
      const fresh = newAgentKey();
      const row = await db.transaction(async (tx) => {
        const inserted = await insertAgentKey(tx, {
          id: fresh.token.id,
          agentId: agent.id,
          secretHash: fresh.secretHash,
          prefix: fresh.prefix,
          name: input.name?.trim().slice(0, 100) || null,
          expiresAt: input.expiresAt ?? null,
          now,
        });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.AGENT_KEY_CREATED,
          outcome: "success",
          target: { type: "agent", id: agent.id },
          details: { keyId: inserted.id, prefix: inserted.prefix, expiresAt: inserted.expiresAt?.toISOString() ?? null },
        });
        return inserted;
      });
      return { key: fresh.key, row };
    },

    async revokeKey(principal, keyId, meta) {
      const key = await findAgentKey(db, keyId);
      if (!key) throw new NotFoundError("No such key");
      const agent = await visible(principal, key.agentId, true);
      const revoked = await db.transaction(async (tx) => {
        const now = clock.now();
        const done = await revokeAgentKey(tx, keyId, now);
        if (done) {
          await enqueueWebhookEvents(tx, [agentKeyRevoked(agent, key, principal.userId, now)]);
          await recordAudit(tx, meta, {
            actor: { type: "user", id: principal.userId },
            action: AuditAction.AGENT_KEY_REVOKED,
            outcome: "success",
            target: { type: "agent", id: agent.id },
            details: { keyId, prefix: key.prefix },
          });
        }
        return done;
      });
      await versions.bumpAgent(agent.id);
      return revoked;
    },
  };
}
