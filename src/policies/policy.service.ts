import crypto from "node:crypto";
import { findAgent, listAgents, type AgentRow } from "../agents/agent.repository";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Principal } from "../auth/principal";
import type { PrincipalVersions } from "../auth/principal-versions";
import type { RoleCatalog } from "../auth/role-catalog";
import { resolveRoles, type RoleGraph } from "../auth/role-graph";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { ConflictError, NotFoundError, UserInputError } from "../errors/errors";
import { effectivePolicy, type EffectivePolicy } from "../policy/effective-policy";
import { POLICY_SCOPES, type Policy, type PolicyAuthority, type PolicyMode, type PolicyScope } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import { graphOf, loadRoleDefinitions } from "../roles/role.repository";
import { grantedRoleNames } from "../users/user.repository";
import { assertNoLocks } from "./owner-bounds";
import { assertId, assertMayWriteScope, canReadAll, canWriteAll, checkMayModify, checkScopeTarget, mayRead } from "./policy-access";
import { storeCap, storeRule, toPolicy, toSnapshot, type PolicyChange, type PolicyRecord, type PolicyVersionRecord } from "./policy-codec";
import { checkPolicyDraft, POLICY_MODES, withCapIds, withRuleIds, type PolicyDraft } from "./policy-validation";
import * as repo from "./policy.repository";

export type { PolicyRecord, PolicyVersionRecord } from "./policy-codec";
export type { PolicyDraft } from "./policy-validation";

export interface EffectivePolicyView extends EffectivePolicy {
  agentId: string;
  ownerId: string;
  /** The owner's roles, inheritance resolved: the ROLE policies of these apply. */
  ownerRoles: string[];
}

/**
 * Governance policies: create, update (a new version each time; every version stays
 * readable), enable/disable, ENFORCE/SHADOW, soft delete; and the chain of an agent for the
 * evaluator. Who may do what: policy-access.ts (and owner-bounds.ts for owners); with what
 * authority a policy then acts: `authorityAfterWrite`. Every change
 * writes the policy row, its new `policy_versions` row and its audit row (policy id, version,
 * before and after) in one transaction. A change that changes nothing (same content, same
 * flag) writes nothing and returns the policy as it is. `expectedVersion`, when given, must
 * be the current version or the change is refused with CONFLICT (optimistic concurrency).
 */
export interface PolicyService {
  list(actor: Principal, filter?: { scope?: string | null; scopeId?: string | null }): Promise<PolicyRecord[]>;
  /** Undefined when there is no such policy or the actor may not read it. Deleted ones included. */
  get(actor: Principal, id: string): Promise<PolicyRecord | undefined>;
  versions(actor: Principal, id: string): Promise<PolicyVersionRecord[]>;
  version(actor: Principal, id: string, version: number): Promise<PolicyVersionRecord | undefined>;
  create(actor: Principal, draft: PolicyDraft, meta: RequestMeta): Promise<PolicyRecord>;
  /** Absent enabled, mode, rules or caps stay as they are; scope and scopeId cannot change. */
  update(actor: Principal, id: string, draft: PolicyDraft, meta: RequestMeta, expectedVersion?: number | null): Promise<PolicyRecord>;
  setEnabled(actor: Principal, id: string, enabled: boolean, meta: RequestMeta, expectedVersion?: number | null): Promise<PolicyRecord>;
  setMode(actor: Principal, id: string, mode: string, meta: RequestMeta, expectedVersion?: number | null): Promise<PolicyRecord>;
  /** Soft delete; the seeded default policy cannot be deleted. Returns the deleted policy. */
  delete(actor: Principal, id: string, meta: RequestMeta, expectedVersion?: number | null): Promise<PolicyRecord>;
  /**
   * The agent's chain for the evaluator: every live, enabled policy (ENFORCE and SHADOW) of
   * GLOBAL, of the owner's roles closed over inheritance, of the owner (USER) and of the
   * agent, money as bigint. Pass `tx` to read inside a caller's transaction.
   */
  chainFor(agent: Pick<AgentRow, "id" | "ownerId">, tx?: Tx): Promise<Policy[]>;
  /** The chain and the owner's effective roles, read together (the action path's input). */
  agentChain(agent: Pick<AgentRow, "id" | "ownerId">, tx?: Tx): Promise<{ chain: Policy[]; ownerRoles: string[] }>;
  /** The owner's effective roles (USER included), as `ActionRequest.ownerRoles` wants them. */
  ownerRoles(ownerId: string, tx?: Tx): Promise<string[]>;
  /** The merged view of an agent's chain; for its owner and policies:read holders. */
  effective(actor: Principal, agentId: string, options?: { includeShadow?: boolean }): Promise<EffectivePolicyView>;
}

const AUDIT_ACTION: Record<PolicyChange, AuditAction> = {
  CREATED: AuditAction.POLICY_CREATED,
  UPDATED: AuditAction.POLICY_UPDATED,
  ENABLED: AuditAction.POLICY_ENABLED,
  DISABLED: AuditAction.POLICY_DISABLED,
  MODE_CHANGED: AuditAction.POLICY_MODE_CHANGED,
  DELETED: AuditAction.POLICY_DELETED,
};

const newId = () => crypto.randomUUID();

function assertExpected(policy: PolicyRecord, expectedVersion: number | null | undefined): void {
  if (expectedVersion === undefined || expectedVersion === null) return;
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1) {
    throw new UserInputError("expectedVersion must be a positive integer", "expectedVersion");
  }
  if (expectedVersion !== policy.version) {
    throw new ConflictError(`The policy is at version ${policy.version}, not ${expectedVersion}: reload it and retry`, "expectedVersion");
  }
}

/** Content that a version records; bookkeeping (times, who) aside. */
const contentOf = (policy: Pick<PolicyRecord, "name" | "enabled" | "mode" | "authority" | "rules" | "caps">) =>
  JSON.stringify([policy.name, policy.enabled, policy.mode, policy.authority, policy.rules.map(storeRule), policy.caps.map(storeCap)]);

/**
 * The authority a write leaves a policy with (the policy model in README): a write without
 * `policies:write` (an owner on their own agent) makes it a RESTRICTION, whatever it was; a
 * write with it keeps what the policy was (a new policy: OVERRIDE). So a holder's edit, or
 * toggle, never promotes an owner's restriction into an override behind the owner's back, and
 * an owner who has lost `policies:write` cannot keep exercising it through an old policy.
 */
function authorityAfterWrite(actor: Principal, before: Pick<PolicyRecord, "authority"> | null): PolicyAuthority {
  if (!canWriteAll(actor)) return "RESTRICTION";
  return before?.authority ?? "OVERRIDE";
}

export function createPolicyService(deps: { db: Db; clock: Clock; versions?: PrincipalVersions; roleCatalog?: RoleCatalog }): PolicyService {
  const { db, clock, versions, roleCatalog } = deps;

  async function roleGraph(ownerId: string, tx: Tx | undefined): Promise<RoleGraph> {
    if (!tx && roleCatalog && versions) return roleCatalog.graph((await versions.current(ownerId)).roles);
    return graphOf(await loadRoleDefinitions(tx ?? db));
  }

  async function ownerRoles(ownerId: string, tx?: Tx): Promise<string[]> {
    const granted = await grantedRoleNames(tx ?? db, ownerId);
    return resolveRoles(["USER", ...granted], await roleGraph(ownerId, tx)).roles;
  }

  async function chainRecords(agent: Pick<AgentRow, "id" | "ownerId">, tx?: Tx) {
    const roles = await ownerRoles(agent.ownerId, tx);
    const records = await repo.applicablePolicies(tx ?? db, { agentId: agent.id, ownerId: agent.ownerId, roles });
    return { records, roles };
  }

  async function readable(actor: Principal, id: string): Promise<PolicyRecord | undefined> {
    const policy = await repo.findPolicy(db, assertId(id, "id"));
    return policy && (await mayRead(db, actor, policy)) ? policy : undefined;
  }

  /** Writes the new version row and the audit row of a change (the audit row last). */
  async function recordChange(tx: Tx, actor: Principal, meta: RequestMeta, change: PolicyChange, before: PolicyRecord | null, after: PolicyRecord) {
    const snapshot = toSnapshot(after);
    await repo.insertVersion(tx, { policyId: after.id, version: after.version, change, snapshot, changedBy: actor.userId, changedAt: after.updatedAt });
    await recordAudit(tx, meta, {
      actor: { type: "user", id: actor.userId },
      action: AUDIT_ACTION[change],
      outcome: "success",
      target: { type: "policy", id: after.id },
      details: { policyId: after.id, version: after.version, change, before: before && toSnapshot(before), after: snapshot },
      at: after.updatedAt,
    });
  }

  /**
   * The frame of every change to an existing policy: lock the row, check access and the
   * expected version, let `decide` compute the new values at `now` (or null: nothing
   * changes), bump the version and record it as `kind`.
   */
  async function change(
    actor: Principal,
    id: string,
    meta: RequestMeta,
    expectedVersion: number | null | undefined,
    kind: PolicyChange,
    decide: (before: PolicyRecord, ownerAgent: AgentRow | null, tx: Tx, now: Date) => Promise<Partial<repo.NewPolicyRow> | null>,
  ): Promise<PolicyRecord> {
    const policyId = assertId(id, "id");
    return afterCommit(db.transaction(async (tx) => {
      const { policy: before, ownerAgent } = await checkMayModify(tx, actor, await repo.findPolicy(tx, policyId, { lock: true }));
      assertExpected(before, expectedVersion);
      const now = clock.now();
      const values = await decide(before, ownerAgent, tx, now);
      if (values === null) return before;
      const authority = authorityAfterWrite(actor, before);
      const after = await repo.updatePolicy(tx, policyId, { ...values, authority, version: before.version + 1, updatedAt: now, updatedBy: actor.userId });
      await recordChange(tx, actor, meta, kind, before, after);
      return after;
    }));
  }

  /**
   * Every process caches agents' chains under the policies stamp: a committed change bumps it
   * (after the commit, so no process can cache the old chain under the new stamp).
   */
  async function afterCommit(committed: Promise<PolicyRecord>): Promise<PolicyRecord> {
    const policy = await committed;
    await versions?.bumpPolicies();
    return policy;
  }

  return {
    async list(actor, filter = {}) {
      if (filter.scope && !(POLICY_SCOPES as readonly string[]).includes(filter.scope)) {
        throw new UserInputError("Unknown policy scope", "scope");
      }
      const base = { scope: (filter.scope ?? null) as PolicyScope | null, scopeId: filter.scopeId ?? null };
      if (canReadAll(actor)) return repo.listPolicies(db, base);
      const agentIds = (await listAgents(db, actor.userId)).map((agent) => agent.id);
      return repo.listPolicies(db, { ...base, ownedBy: { userId: actor.userId, agentIds } });
    },

    get: readable,

    async versions(actor, id) {
      const policy = await readable(actor, id);
      if (!policy) throw new NotFoundError("No such policy");
      return repo.listVersions(db, policy.id);
    },

    async version(actor, id, version) {
      const policy = await readable(actor, id);
      if (!policy) throw new NotFoundError("No such policy");
      return repo.findVersion(db, policy.id, version);
    },

    async create(actor, draft, meta) {
      assertMayWriteScope(actor, draft.scope);
      const content = checkPolicyDraft(draft);
      return afterCommit(db.transaction(async (tx) => {
        const agent = await checkScopeTarget(tx, actor, content.scope, content.scopeId);
        const rules = withRuleIds([], content.rules ?? [], newId);
        const caps = withCapIds([], content.caps ?? [], newId);
        if (agent && !canWriteAll(actor)) assertNoLocks(rules, caps);
        const now = clock.now();
        const created = await repo.insertPolicy(tx, {
          name: content.name,
          scope: content.scope,
          scopeId: content.scopeId,
          enabled: content.enabled ?? true,
          mode: content.mode ?? "ENFORCE",
          authority: authorityAfterWrite(actor, null),
          version: 1,
          rules: rules.map(storeRule),
          caps: caps.map(storeCap),
          createdAt: now,
          createdBy: actor.userId,
          updatedAt: now,
          updatedBy: actor.userId,
        });
        await recordChange(tx, actor, meta, "CREATED", null, created);
        return created;
      }));
    },

    async update(actor, id, draft, meta, expectedVersion) {
      assertMayWriteScope(actor, draft.scope);
      const content = checkPolicyDraft(draft);
      return change(actor, id, meta, expectedVersion, "UPDATED", async (before, ownerAgent) => {
        if (content.scope !== before.scope) throw new UserInputError("A policy's scope cannot change; create a new policy instead", "scope");
        if (content.scopeId !== before.scopeId) throw new UserInputError("A policy's scopeId cannot change; create a new policy instead", "scopeId");
        const next = {
          name: content.name,
          enabled: content.enabled ?? before.enabled,
          mode: content.mode ?? before.mode,
          rules: content.rules ? withRuleIds(before.rules, content.rules, newId) : before.rules,
          caps: content.caps ? withCapIds(before.caps, content.caps, newId) : before.caps,
        };
        if (ownerAgent) assertNoLocks(next.rules, next.caps);
        if (contentOf({ ...next, authority: authorityAfterWrite(actor, before) }) === contentOf(before)) return null;
        return { ...next, rules: next.rules.map(storeRule), caps: next.caps.map(storeCap) };
      });
    },

    async setEnabled(actor, id, enabled, meta, expectedVersion) {
      return change(actor, id, meta, expectedVersion, enabled ? "ENABLED" : "DISABLED", async (before) => {
        if (before.enabled === enabled) return null;
        return { enabled };
      });
    },

    async setMode(actor, id, rawMode, meta, expectedVersion) {
      if (!(POLICY_MODES as readonly string[]).includes(rawMode)) throw new UserInputError("Unknown policy mode; expected ENFORCE or SHADOW", "mode");
      const mode = rawMode as PolicyMode;
      return change(actor, id, meta, expectedVersion, "MODE_CHANGED", async (before) => {
        if (before.mode === mode) return null;
        return { mode };
      });
    },

    async delete(actor, id, meta, expectedVersion) {
      return change(actor, id, meta, expectedVersion, "DELETED", async (before, _ownerAgent, _tx, now) => {
        if (before.builtIn) throw new ConflictError("The default policy cannot be deleted; edit or disable it instead", "id");
        return { deletedAt: now };
      });
    },

    async chainFor(agent, tx) {
      return (await chainRecords(agent, tx)).records.map(toPolicy);
    },

    async agentChain(agent, tx) {
      const { records, roles } = await chainRecords(agent, tx);
      return { chain: records.map(toPolicy), ownerRoles: roles };
    },

    ownerRoles,

    async effective(actor, agentId, options = {}) {
      const agent = await findAgent(db, assertId(agentId, "agentId"));
      if (!agent || (agent.ownerId !== actor.userId && !canReadAll(actor))) throw new NotFoundError("No such agent");
      const { records, roles } = await chainRecords(agent);
      const view = effectivePolicy(records.map(toPolicy), roles, { includeShadow: options.includeShadow === true });
      return { agentId: agent.id, ownerId: agent.ownerId, ownerRoles: roles, ...view };
    },
  };
}
