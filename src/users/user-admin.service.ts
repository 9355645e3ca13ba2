import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { mailOneTimeLink } from "../auth/emailed-link";
import { normalizeEmail, normalizeUsername } from "../auth/identity-rules";
import type { PasswordService } from "../auth/password.service";
import { hasPermission, type Principal } from "../auth/principal";
import type { PrincipalVersions } from "../auth/principal-versions";
import type { RoleCatalog } from "../auth/role-catalog";
import { resolveRoles } from "../auth/role-graph";
import { revokeUserSessions } from "../auth/session.repository";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/database";
import { emailChangeRequested, emailChangeVerify, invite } from "../email/email-templates";
import type { Notifier } from "../email/notifier";
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { assertNotLastAdmin } from "./admin-guard";
import { assertMayActOn, assertMayConfer, roleGraphIn } from "./authority";
import { findUserPage, grantedRolesOf, type UserFilter, type UserOrder } from "./user-query";
import {
  findUserByEmail,
  findUserById,
  findUserByUsername,
  grantRole,
  insertUser,
  lockUser,
  updateUser,
  type UserRow,
} from "./user.repository";
import { assertUuid } from "../validation/ids";

export interface UserWithRoles {
  row: UserRow;
  roles: string[];
}

export interface UserAdminService {
  list(input: { filter: UserFilter; order: UserOrder; first: number; after?: string | null }): Promise<{
    users: (UserWithRoles & { cursor: string })[];
    hasNextPage: boolean;
    /** Counts every match: only when a client asks for it. */
    countAll(): Promise<number>;
  }>;
  get(id: string): Promise<UserWithRoles | undefined>;
  create(actor: Principal, input: CreateUserInput, meta: RequestMeta): Promise<UserWithRoles>;
  update(actor: Principal, id: string, input: ProfileChanges & { email?: string | null }, meta: RequestMeta): Promise<UserWithRoles>;
  updateMe(actor: Principal, input: ProfileChanges, meta: RequestMeta): Promise<UserWithRoles>;
  setDisabled(actor: Principal, id: string, disabled: boolean, meta: RequestMeta): Promise<UserWithRoles>;
  delete(actor: Principal, id: string, meta: RequestMeta): Promise<true>;
}

export interface ProfileChanges {
  displayName?: string | null;
  username?: string | null;
}

export interface CreateUserInput extends ProfileChanges {
  email: string;
  password?: string | null;
  roles?: string[] | null;
  sendInvite?: boolean | null;
}

const INVITE_TTL_MS = 7 * 86_400_000;

/** What an audit row may say about a user: never a hash or a secret. */
const snapshot = (row: UserRow) => ({
  email: row.email,
  username: row.username,
  displayName: row.displayName,
  status: row.status,
});

/**
 * Administration of accounts: listing and search, create (optionally inviting by email),
 * profile edits, disable/enable, soft delete. Each change is one transaction with its audit
 * row (before and after), and the user's caches are invalidated on every process after it.
 */
export function createUserAdminService(deps: {
  db: Db;
  passwords: PasswordService;
  roleCatalog: RoleCatalog;
  versions: PrincipalVersions;
  notifier: Notifier;
  clock: Clock;
  /** How long the confirmation link of an email change stays valid. */
  emailChangeTtlMs: number;
}): UserAdminService {
  const { db, passwords, roleCatalog, versions, notifier, clock } = deps;

  async function withRoles(rows: UserRow[]): Promise<UserWithRoles[]> {
    const granted = await grantedRolesOf(db, rows.map((row) => row.id));
    const graph = await roleCatalog.graph(await versions.rolesStamp());
    return rows.map((row) => ({ row, roles: resolveRoles(["USER", ...(granted.get(row.id) ?? [])], graph).roles }));
  }

  async function one(id: string): Promise<UserWithRoles> {
    const row = await findUserById(db, id);
    if (!row) throw new NotFoundError("No such user");
    return (await withRoles([row]))[0] as UserWithRoles;
  }

  function validId(id: string, field = "id"): string {
    return assertUuid(id, field, "Not a valid user id");
  }

  function profile(input: ProfileChanges): Partial<UserRow> {
    const changes: Partial<UserRow> = {};
    if (input.displayName !== undefined) {
      const name = input.displayName?.trim() ?? "";
      if (name.length > 100) throw new UserInputError("Display name is at most 100 characters", "displayName");
      changes.displayName = name || null;
    }
    if (input.username !== undefined) changes.username = input.username ? normalizeUsername(input.username) : null;
    return changes;
  }

  /**
   * One change to another account (or one's own): the target is locked, the caller's
   * authority over it checked (see authority.ts), then the change and its audit row commit
   * together. With no field to change, only the checks run.
   */
  async function applyChanges(
    actor: Principal,
    id: string,
    changes: Partial<UserRow>,
    action: AuditAction,
    meta: RequestMeta,
    extra?: (tx: DbOrTx, before: UserRow) => Promise<void>,
  ): Promise<UserRow> {
    const before = await db.transaction(async (tx) => {
      const before = await lockUser(tx, id);
      if (!before) throw new NotFoundError("No such user");
      await assertMayActOn(tx, actor, id);
      if (changes.username && changes.username.toLowerCase() !== before.username?.toLowerCase()) {
        const holder = await findUserByUsername(tx, changes.username);
        if (holder && holder.id !== id) throw new ConflictError("This username is taken", "username");
      }
      await extra?.(tx, before);
      if (Object.keys(changes).length === 0) return before;
      const now = clock.now();
      await updateUser(tx, id, { ...changes, updatedAt: now });
      await recordAudit(tx, meta, {
        actor: { type: "user", id: actor.userId },
        action,
        outcome: "success",
        target: { type: "user", id },
        details: { before: snapshot(before), after: snapshot({ ...before, ...changes }) },
      });
      return before;
    });
    if (Object.keys(changes).length > 0) await versions.bumpUser(id);
    return before;
  }

  /**
   * An email change made for someone else takes effect only when the new address confirms
   * it (the same link a user's own change sends), and the current address is told at once:
   * an address the changer controls cannot be slipped onto an account unnoticed.
   */
  async function requestEmailChange(actor: Principal, user: UserRow, newEmail: string, meta: RequestMeta): Promise<void> {
    await mailOneTimeLink(deps, {
      userId: user.id,
      to: newEmail,
      purpose: "email_change",
      ttlMs: deps.emailChangeTtlMs,
      path: "/confirm-email-change",
      template: emailChangeVerify,
      audit: { actor: { type: "user", id: actor.userId }, action: AuditAction.EMAIL_CHANGE_REQUESTED, details: { newEmail, byAdmin: true } },
      meta,
    });
    await notifier.send(emailChangeRequested({ to: user.email, newEmail, at: clock.now() }), { userId: user.id, meta });
  }

  return {
    async list(input) {
      const page = await findUserPage(db, input);
      const rows = await withRoles(page.rows);
      return {
        users: rows.map((entry) => ({ ...entry, cursor: page.cursorOf(entry.row) })),
        hasNextPage: page.hasNextPage,
        countAll: page.countAll,
      };
    },

    async get(id) {
      const row = await findUserById(db, validId(id));
      return row ? (await withRoles([row]))[0] : undefined;
    },

    async create(actor, input, meta) {
      const email = normalizeEmail(input.email);
      const changes = profile(input);
      const roleNames = [...new Set((input.roles ?? []).filter((role) => role !== "USER"))];
      if (roleNames.length > 0 && !hasPermission(actor, "roles:write")) {
        throw new ForbiddenError("Granting roles needs roles:write");
      }
      // Without a password, the invitation is the only way in.
      if (input.sendInvite || !input.password) notifier.requireTransport();
      const passwordHash = input.password
        ? await passwords.prepare({ id: "", email, username: changes.username ?? null, passwordHash: null }, input.password, "password")
        : null;
      const user = await db.transaction(async (tx) => {
        if (roleNames.length > 0) {
          const graph = await roleGraphIn(tx);
          const unknown = roleNames.filter((role) => !graph.has(role));
          if (unknown.length > 0) throw new UserInputError(`Unknown roles: ${unknown.join(", ")}`, "roles");
          assertMayConfer(graph, roleNames, actor);
        }
        const created = await insertUser(tx, { email, username: changes.username ?? null, passwordHash, passwordChangedAt: passwordHash ? clock.now() : null });
        if (!created) {
          throw (await findUserByEmail(tx, email))
            ? new ConflictError("This email is already registered", "email")
            : new ConflictError("This username is taken", "username");
        }
        if (changes.displayName) await updateUser(tx, created.id, { displayName: changes.displayName });
        for (const role of roleNames) await grantRole(tx, created.id, role, actor.userId);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: actor.userId },
          action: AuditAction.USER_CREATED,
          outcome: "success",
          target: { type: "user", id: created.id },
          details: { after: snapshot({ ...created, ...changes }), roles: roleNames, invited: Boolean(input.sendInvite) },
        });
        return created;
      });
      if (input.sendInvite || !passwordHash) {
        await mailOneTimeLink(deps, {
          userId: user.id,
          to: email,
          purpose: "password_reset",
          ttlMs: INVITE_TTL_MS,
          path: "/reset-password",
          template: invite,
          audit: { actor: { type: "user", id: actor.userId }, action: AuditAction.PASSWORD_RESET_REQUESTED, details: { invite: true } },
          meta,
        });
      }
      return one(user.id);
    },

    async update(actor, id, input, meta) {
      validId(id);
      const changes = profile(input);
      const newEmail = input.email ? normalizeEmail(input.email) : undefined;
      let emailMoves = false;
      const before = await applyChanges(actor, id, changes, AuditAction.USER_UPDATED, meta, async (tx, current) => {
        emailMoves = newEmail !== undefined && newEmail.toLowerCase() !== current.email.toLowerCase();
        if (emailMoves) notifier.requireTransport();
        if (emailMoves && (await findUserByEmail(tx, newEmail as string))) throw new ConflictError("This email is already registered", "email");
      });
      if (emailMoves) await requestEmailChange(actor, before, newEmail as string, meta);
      return one(id);
    },

    async updateMe(actor, input, meta) {
      await applyChanges(actor, actor.userId, profile(input), AuditAction.PROFILE_UPDATED, meta);
      return one(actor.userId);
    },

    async setDisabled(actor, id, disabled, meta) {
      validId(id);
      if (disabled && id === actor.userId) throw new UserInputError("You cannot disable your own account", "id");
      await applyChanges(
        actor,
        id,
        { status: disabled ? "disabled" : "active" },
        disabled ? AuditAction.USER_DISABLED : AuditAction.USER_ENABLED,
        meta,
        async (tx) => {
          if (!disabled) return;
          await assertNotLastAdmin(tx, id);
          await revokeUserSessions(tx, id, "account_disabled", clock.now());
        },
      );
      return one(id);
    },

    async delete(actor, id, meta) {
      validId(id);
      await db.transaction(async (tx) => {
        const before = await lockUser(tx, id);
        if (!before) throw new NotFoundError("No such user");
        await assertMayActOn(tx, actor, id);
        await assertNotLastAdmin(tx, id);
        const now = clock.now();
        await updateUser(tx, id, { deletedAt: now, status: "disabled", updatedAt: now });
        const revoked = await revokeUserSessions(tx, id, "account_deleted", now);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: actor.userId },
          action: AuditAction.USER_DELETED,
          outcome: "success",
          target: { type: "user", id },
          details: { before: snapshot(before), sessionsRevoked: revoked },
        });
      });
      await versions.bumpUser(id);
      return true;
    },
  };
}
