import type { Principal } from "../auth/principal";
import type { RoleGraph } from "../auth/role-graph";
import type { DbOrTx } from "../db/database";
import { ForbiddenError } from "../errors/errors";
import { graphOf, loadRoleDefinitions } from "../roles/role.repository";
import { beyondHolder } from "../roles/role-rules";
import { grantedRoleNames } from "./user.repository";

/**
 * Authority over accounts, one rule for every path:
 *
 * - No escalation: whoever confers roles (grantRole, createUser, a role's definition) may
 *   hand out only what they hold themselves.
 * - No acting on a superior: a caller may change, disable, enable, unlock, delete, end the
 *   sessions of, or grant and revoke roles of another user only when that user's roles
 *   confer nothing the caller lacks. Otherwise a holder of `users:write` could take over an
 *   account with more rights than their own (change its email, then reset its password).
 *
 * Call inside the transaction that makes the change, after locking the target, so a grant
 * that lands concurrently is seen.
 */

export async function roleGraphIn(tx: DbOrTx): Promise<RoleGraph> {
  return graphOf(await loadRoleDefinitions(tx));
}

/** Refuses a change that would confer `missing` (what the actor lacks: see beyondHolder). */
export function refuseEscalation(missing: readonly string[]): void {
  if (missing.length > 0) {
    throw new ForbiddenError(`You can only hand out what you hold yourself; you lack ${missing.join(", ")}`);
  }
}

/** Refuses when holding `roles` would confer what `actor` lacks, naming each missing item. */
export function assertMayConfer(graph: RoleGraph, roles: readonly string[], actor: Principal): void {
  refuseEscalation(beyondHolder(graph, roles, actor));
}

/** Refuses when `targetId` (another user) holds roles conferring anything `actor` lacks. */
export async function assertMayActOn(tx: DbOrTx, actor: Principal, targetId: string, graph?: RoleGraph): Promise<void> {
  if (targetId === actor.userId) return;
  const granted = await grantedRoleNames(tx, targetId);
  if (granted.length === 0) return;
  const missing = beyondHolder(graph ?? (await roleGraphIn(tx)), granted, actor);
  if (missing.length > 0) {
    throw new ForbiddenError("This user's roles confer more than yours: only someone who holds all of them may act on this account", {
      lacking: missing,
    });
  }
}
