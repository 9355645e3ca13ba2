/**
 * Who may read and write which policies (the checks PolicyService runs first):
 *
 * - `policies:write` writes every scope (and reads everything).
 * - `policies:read` reads every policy, its versions and every agent's effective policy.
 * - Anyone else is an owner: they read the USER policies of themselves and the AGENT
 *   policies of their own (live) agents, and the effective policy of their own agents; they
 *   write AGENT policies of their own agents only, never locked (owner-bounds.ts), and change
 *   or delete only AGENT policies they created themselves that hold nothing locked (a policy
 *   an administrator wrote or locked on their agent binds them). What they write is a
 *   restriction layer (policy.service.ts, `authorityAfterWrite`): it can never loosen
 *   anything, so no content check against the broader chain is needed, on writing or on
 *   enabling it again.
 * Unreadable policies are reported as absent (NOT_FOUND), never as forbidden.
 */
import { findAgent, type AgentRow } from "../agents/agent.repository";
import { hasPermission, type Principal } from "../auth/principal";
import type { DbOrTx } from "../db/database";
import { ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { PolicyScope } from "../policy/policy-types";
import { findUserById } from "../users/user.repository";
import type { PolicyRecord } from "./policy-codec";
import { roleExists } from "./policy.repository";
import { assertUuid } from "../validation/ids";

export const canWriteAll = (actor: Principal) => hasPermission(actor, "policies:write");
export const canReadAll = (actor: Principal) => hasPermission(actor, "policies:read") || canWriteAll(actor);


export function assertId(id: string, field: string): string {
  assertUuid(id, field, `${field} is not a valid id`);
  return id.toLowerCase();
}

/** Before anything else: without policies:write, only AGENT policies may be written at all. */
export function assertMayWriteScope(actor: Principal, scope: unknown): void {
  if (canWriteAll(actor) || scope === "AGENT") return;
  throw new ForbiddenError(`Writing ${String(scope)} policies needs policies:write; you may write AGENT policies for your own agents`);
}

/**
 * The target of a new policy must exist: a role (ROLE), a live user (USER), a live agent
 * (AGENT). For an owner, the agent must be theirs; an unknown agent and another's agent are
 * refused alike. Returns the agent of an AGENT policy.
 */
export async function checkScopeTarget(tx: DbOrTx, actor: Principal, scope: PolicyScope, scopeId: string | null): Promise<AgentRow | null> {
  if (scope === "GLOBAL" || scopeId === null) return null;
  if (scope === "AGENT") {
    const agent = await findAgent(tx, scopeId);
    if (!canWriteAll(actor) && agent?.ownerId !== actor.userId) {
      throw new ForbiddenError("You may write AGENT policies only for your own agents", { field: "scopeId" });
    }
    if (!agent) throw new UserInputError("No agent with that id", "scopeId");
    return agent;
  }
  if (scope === "ROLE" && !(await roleExists(tx, scopeId))) throw new UserInputError(`No role named ${scopeId}`, "scopeId");
  if (scope === "USER" && !(await findUserById(tx, scopeId))) throw new UserInputError("No user with that id", "scopeId");
  return null;
}

/** Whether `actor` may read `policy` (see the module comment). */
export async function mayRead(tx: DbOrTx, actor: Principal, policy: PolicyRecord): Promise<boolean> {
  if (canReadAll(actor)) return true;
  if (policy.scope === "USER") return policy.scopeId === actor.userId;
  if (policy.scope === "AGENT" && policy.scopeId !== null) return (await findAgent(tx, policy.scopeId))?.ownerId === actor.userId;
  return false;
}

/**
 * For a change to an existing live policy: NOT_FOUND when the actor cannot read it, FORBIDDEN
 * when they may read but not change it. Returns the agent when an owner (not a policies:write
 * holder) makes the change, so the service applies the owner's bounds; null otherwise.
 */
export async function checkMayModify(tx: DbOrTx, actor: Principal, policy: PolicyRecord | undefined): Promise<{ policy: PolicyRecord; ownerAgent: AgentRow | null }> {
  if (!policy || policy.deletedAt !== null || !(await mayRead(tx, actor, policy))) throw new NotFoundError("No such policy");
  if (canWriteAll(actor)) return { policy, ownerAgent: null };
  const agent = policy.scope === "AGENT" && policy.scopeId !== null ? await findAgent(tx, policy.scopeId) : undefined;
  if (!agent || agent.ownerId !== actor.userId) throw new ForbiddenError(`Changing ${policy.scope} policies needs policies:write`);
  if (policy.createdBy !== actor.userId) {
    throw new ForbiddenError("This policy was written by an administrator for your agent; changing it needs policies:write");
  }
  if (policy.rules.some((rule) => rule.locked) || policy.caps.some((cap) => cap.locked)) {
    throw new ForbiddenError("This policy holds locked rules or caps; changing it needs policies:write");
  }
  return { policy, ownerAgent: agent };
}
