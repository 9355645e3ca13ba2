import { AuditAction } from "../audit/audit-actions";
import { recordAudit, type AuditEntry } from "../audit/audit-recorder";
import { hasPermission, type Principal } from "../auth/principal";
import type { PrincipalVersions } from "../auth/principal-versions";
import type { RoleGraph } from "../auth/role-graph";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { assertNotLastAdmin } from "../users/admin-guard";
import { assertMayActOn, assertMayConfer, refuseEscalation } from "../users/authority";
import { grantedRoleNames, lockUser } from "../users/user.repository";
import * as repo from "./role.repository";
import {
  assertNoCycle,
  assertRoleName,
  beyondHolder,
  IMPLICIT_ROLE,
  normalizeDescription,
  normalizeInherits,
  normalizePermissions,
  sameDefinition,
  sameSet,
  toRoleRecord,
  withRole,
  type RoleDefinition,
  type RoleRecord,
} from "./role-rules";
import { assertUuid } from "../validation/ids";

export type { RoleRecord } from "./role-rules";

export interface NewRole {
  name: string;
  description?: string | null;
  permissions?: readonly string[] | null;
  inherits?: readonly string[] | null;
}

/** Absent or null leaves a value as it is; an empty list clears it. */
export interface RoleChanges {
  description?: string | null;
  permissions?: readonly string[] | null;
  inherits?: readonly string[] | null;
}

/**
 * Role administration. Every change runs in one transaction with its audit row; after
 * commit, the shared version stamps move so every process re-reads roles on the next
 * request (definitions: the global stamp; grants: the user's stamp). Built-in roles keep
 * their permissions and parents (the schema's access rules rely on them) and cannot be
 * deleted; their description may be edited. USER is implicit and never granted or revoked.
 */
export interface RoleService {
  list(): Promise<RoleRecord[]>;
  get(name: string): Promise<RoleRecord | undefined>;
  create(actor: Principal, input: NewRole, meta: RequestMeta): Promise<RoleRecord>;
  /** Built-in roles: description only; permissions or inherits that differ are refused. */
  update(actor: Principal, name: string, changes: RoleChanges, meta: RequestMeta): Promise<RoleRecord>;
  /** Removes the role, its grants and the inherit edges to and from it. */
  delete(actor: Principal, name: string, meta: RequestMeta): Promise<void>;
  /** True when granted now, false when the user already held the role (nothing changes). */
  grant(actor: Principal, userId: string, roleName: string, meta: RequestMeta): Promise<boolean>;
  /** True when revoked now, false when the user did not hold the role (nothing changes). */
  revoke(actor: Principal, userId: string, roleName: string, meta: RequestMeta): Promise<boolean>;
}


function assertCanManage(actor: Principal): void {
  if (!hasPermission(actor, "roles:write")) throw new ForbiddenError("Managing roles needs roles:write");
}

function assertGrantable(roleName: string, userId: string): void {
  if (roleName === IMPLICIT_ROLE) {
    throw new UserInputError("USER is held by every account implicitly; it cannot be granted or revoked", "role");
  }
  assertUuid(userId, "userId", "userId is not a valid id");
}

function assertBuiltInKept(before: RoleDefinition, next: RoleDefinition): void {
  for (const field of ["permissions", "inherits"] as const) {
    if (!sameSet(before[field], next[field])) {
      throw new ConflictError(
        `${before.name} is a built-in role: its permissions and inherited roles are fixed; create a custom role that inherits it instead`,
        field,
      );
    }
  }
}

const definitionOf = (role: RoleDefinition): RoleDefinition => ({
  name: role.name,
  description: role.description,
  permissions: role.permissions,
  inherits: role.inherits,
  builtIn: role.builtIn,
});

export function createRoleService(deps: { db: Db; versions: PrincipalVersions; clock: Clock }): RoleService {
  const { db, versions, clock } = deps;

  const audit = (tx: Tx, meta: RequestMeta, actor: Principal, entry: Omit<AuditEntry, "actor" | "outcome">) =>
    recordAudit(tx, meta, { ...entry, actor: { type: "user", id: actor.userId }, outcome: "success", at: clock.now() });

  async function definitionsIn(tx: Tx): Promise<{ definitions: RoleDefinition[]; graph: RoleGraph }> {
    const definitions = await repo.loadRoleDefinitions(tx);
    return { definitions, graph: repo.graphOf(definitions) };
  }

  /** Opens the transaction of a grant change: the role must exist, the user must be live. */
  async function grantContext(tx: Tx, userId: string, roleName: string) {
    await repo.lockRoleDefinitions(tx);
    const { graph } = await definitionsIn(tx);
    if (!graph.has(roleName)) throw new UserInputError(`No role named ${roleName}`, "role");
    if (!(await lockUser(tx, userId))) throw new NotFoundError("No user with that id");
    return { graph, before: (await grantedRoleNames(tx, userId)).sort() };
  }

  return {
    async list() {
      const definitions = await repo.loadRoleDefinitions(db);
      const graph = repo.graphOf(definitions);
      return definitions.map((definition) => toRoleRecord(definition, graph));
    },

    async get(name) {
      const definitions = await repo.loadRoleDefinitions(db);
      const definition = definitions.find((candidate) => candidate.name === name);
      return definition && toRoleRecord(definition, repo.graphOf(definitions));
    },

    async create(actor, input, meta) {
      assertCanManage(actor);
      assertRoleName(input.name);
      const { name } = input;
      const description = normalizeDescription(input.description);
      const permissions = normalizePermissions(input.permissions ?? []);
      const record = await db.transaction(async (tx) => {
        await repo.lockRoleDefinitions(tx);
        const { graph } = await definitionsIn(tx);
        if (graph.has(name)) throw new ConflictError(`A role named ${name} already exists`, "name");
        const inherits = normalizeInherits(input.inherits ?? [], withRole(graph, name, { permissions, inherits: [] }));
        assertNoCycle(graph, name, inherits);
        const after = withRole(graph, name, { permissions, inherits });
        assertMayConfer(after, [name], actor);
        await repo.insertRole(tx, { name, description, permissions, at: clock.now() });
        await repo.replaceInherits(tx, name, inherits);
        const created = toRoleRecord({ name, description, permissions, inherits, builtIn: false }, after);
        await audit(tx, meta, actor, {
          action: AuditAction.ROLE_CREATED,
          target: { type: "role", id: name },
          details: { after: definitionOf(created) },
        });
        return created;
      });
      await versions.bumpRoles();
      return record;
    },

    async update(actor, name, changes, meta) {
      assertCanManage(actor);
      const description = changes.description == null ? undefined : normalizeDescription(changes.description);
      const permissions = changes.permissions == null ? undefined : normalizePermissions(changes.permissions);
      const outcome = await db.transaction(async (tx) => {
        await repo.lockRoleDefinitions(tx);
        const { definitions, graph } = await definitionsIn(tx);
        const before = definitions.find((definition) => definition.name === name);
        if (!before) throw new NotFoundError(`No role named ${name}`);
        const inherits = changes.inherits == null ? undefined : normalizeInherits(changes.inherits, graph);
        const next: RoleDefinition = {
          ...before,
          description: description ?? before.description,
          permissions: permissions ?? before.permissions,
          inherits: inherits ?? before.inherits,
        };
        if (before.builtIn) assertBuiltInKept(before, next);
        if (sameDefinition(before, next)) return { record: toRoleRecord(before, graph), changed: false };

        assertNoCycle(graph, name, next.inherits);
        const after = withRole(graph, name, { permissions: next.permissions, inherits: next.inherits });
        // Only what the edit adds counts: trimming a role that confers more than the actor holds is fine.
        const alreadyBeyond = new Set(beyondHolder(graph, [name], actor));
        refuseEscalation(beyondHolder(after, [name], actor).filter((item) => !alreadyBeyond.has(item)));
        await repo.updateRole(tx, name, { description: next.description, permissions: next.permissions, at: clock.now() });
        if (!sameSet(next.inherits, before.inherits)) await repo.replaceInherits(tx, name, next.inherits);
        await audit(tx, meta, actor, {
          action: AuditAction.ROLE_UPDATED,
          target: { type: "role", id: name },
          details: { before: definitionOf(before), after: definitionOf(next) },
        });
        return { record: toRoleRecord(next, after), changed: true };
      });
      if (outcome.changed) await versions.bumpRoles();
      return outcome.record;
    },

    async delete(actor, name, meta) {
      assertCanManage(actor);
      await db.transaction(async (tx) => {
        await repo.lockRoleDefinitions(tx);
        const { definitions } = await definitionsIn(tx);
        const before = definitions.find((definition) => definition.name === name);
        if (!before) throw new NotFoundError(`No role named ${name}`);
        if (before.builtIn) throw new ConflictError(`${name} is a built-in role and cannot be deleted`, "name");
        const heldBy = await repo.holdersOf(tx, name);
        const inheritedBy = await repo.childrenOf(tx, name);
        await repo.deleteRole(tx, name);
        await audit(tx, meta, actor, {
          action: AuditAction.ROLE_DELETED,
          target: { type: "role", id: name },
          details: { before: definitionOf(before), heldBy, inheritedBy },
        });
      });
      await versions.bumpRoles();
    },

    async grant(actor, userId, roleName, meta) {
      assertCanManage(actor);
      assertGrantable(roleName, userId);
      const granted = await db.transaction(async (tx) => {
        const { graph, before } = await grantContext(tx, userId, roleName);
        assertMayConfer(graph, [roleName], actor);
        await assertMayActOn(tx, actor, userId, graph);
        if (!(await repo.insertGrant(tx, userId, roleName, actor.userId, clock.now()))) return false;
        await audit(tx, meta, actor, {
          action: AuditAction.ROLE_GRANTED,
          target: { type: "user", id: userId },
          details: { role: roleName, before, after: [...before, roleName].sort() },
        });
        return true;
      });
      if (granted) await versions.bumpUser(userId);
      return granted;
    },

    async revoke(actor, userId, roleName, meta) {
      assertCanManage(actor);
      assertGrantable(roleName, userId);
      const revoked = await db.transaction(async (tx) => {
        const { graph, before } = await grantContext(tx, userId, roleName);
        await assertMayActOn(tx, actor, userId, graph);
        if (roleName === "ADMIN") await assertNotLastAdmin(tx, userId);
        if (!(await repo.deleteGrant(tx, userId, roleName))) return false;
        await audit(tx, meta, actor, {
          action: AuditAction.ROLE_REVOKED,
          target: { type: "user", id: userId },
          details: { role: roleName, before, after: before.filter((role) => role !== roleName) },
        });
        return true;
      });
      if (revoked) await versions.bumpUser(userId);
      return revoked;
    },
  };
}
