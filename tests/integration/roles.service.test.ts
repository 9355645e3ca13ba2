import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allows } from "../../src/auth/access-rule";
import { createAccessTokenService } from "../../src/auth/access-tokens";
import { PERMISSIONS } from "../../src/auth/permissions";
import type { Principal } from "../../src/auth/principal";
import { createPrincipalResolver } from "../../src/auth/principal-resolver";
import { createPrincipalVersions, type PrincipalVersions } from "../../src/auth/principal-versions";
import { createRoleCatalog } from "../../src/auth/role-catalog";
import { resolveRoles } from "../../src/auth/role-graph";
import { BUILT_IN_ROLE_DEFINITIONS, BUILT_IN_ROLES } from "../../src/auth/roles";
import { loadSigningKeys } from "../../src/auth/signing-keys";
import type { Db } from "../../src/db/database";
import { auditEvents, roleInherits, roles, sessions, userRoles } from "../../src/db/schema";
import { AppError } from "../../src/errors/errors";
import type { RequestMeta } from "../../src/request-meta";
import { graphOf, loadRoleDefinitions } from "../../src/roles/role.repository";
import { createRoleService, type RoleService } from "../../src/roles/role.service";
import { createMemoryStore } from "../../src/store/memory-store";
import { createRedisStore } from "../../src/store/redis-store";
import type { SharedStore } from "../../src/store/shared-store";
import { grantRole, grantedRoleNames, insertUser, type UserRow } from "../../src/users/user.repository";
import { BACKEND, createTestDatabase, REDIS_URL, uniqueRedisPrefix, type TestDatabase } from "../support/backend";
import { uniqueEmail } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";

/**
 * RoleService on a real database (PGlite or PostgreSQL, per TEST_BACKEND), without HTTP:
 * rules, transactions, audit rows and version stamps. tests/integration/roles.test.ts covers
 * the same ground through the GraphQL endpoint.
 */
const meta: RequestMeta = { requestId: "roles-service-test", ip: "127.0.0.1", userAgent: "vitest" };
const clock = new ManualClock(new Date("2030-01-01T00:00:00Z"));

let testDatabase: TestDatabase;
let db: Db;
let store: SharedStore;
let versions: PrincipalVersions;
let service: RoleService;
/** The one ADMIN of this database (no bootstrap runs here). */
let admin: UserRow;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  await testDatabase.database.migrate();
  db = testDatabase.database.db;
  store = BACKEND === "postgres" ? createRedisStore(REDIS_URL, { keyPrefix: uniqueRedisPrefix() }) : createMemoryStore(clock);
  versions = createPrincipalVersions(store);
  service = createRoleService({ db, versions, clock });
  admin = await newUser("admin", ["ADMIN"]);
});
afterAll(async () => {
  await store.close();
  await testDatabase.drop();
});

async function newUser(label: string, granted: string[] = []): Promise<UserRow> {
  const user = await insertUser(db, { email: uniqueEmail(label), username: null, passwordHash: null });
  if (!user) throw new Error("user not created");
  for (const role of granted) await grantRole(db, user.id, role, null);
  return user;
}

/** The principal a request by `user` would carry now (as the principal resolver builds it). */
async function principal(user: UserRow): Promise<Principal> {
  const graph = graphOf(await loadRoleDefinitions(db));
  const resolved = resolveRoles(["USER", ...(await grantedRoleNames(db, user.id))], graph);
  return { kind: "user", userId: user.id, sessionId: "no-session", restriction: null, user, ...resolved };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof AppError)) throw new Error(`expected an AppError refusal, got ${String(outcome)}`);
  return outcome;
}

/** Everything a role change could touch, to prove a refused one touched nothing. */
async function snapshot(userId = admin.id) {
  return {
    roles: await db.select().from(roles).orderBy(asc(roles.name)),
    edges: await db.select().from(roleInherits).orderBy(asc(roleInherits.roleName), asc(roleInherits.parentName)),
    grants: (await db.select().from(userRoles)).map((row) => `${row.userId}:${row.roleName}`).sort(),
    audits: (await db.select({ seq: auditEvents.seq }).from(auditEvents)).length,
    stamps: await versions.current(userId),
  };
}

async function auditRows(action: string, targetId: string) {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.action, action), eq(auditEvents.targetId, targetId)))
    .orderBy(asc(auditEvents.seq));
}

describe("reading roles", () => {
  it("lists the built-in roles as seeded, with their effective permissions", async () => {
    const listed = await service.list();
    for (const name of BUILT_IN_ROLES) {
      const definition = BUILT_IN_ROLE_DEFINITIONS[name];
      expect(listed.find((role) => role.name === name)).toEqual({
        name,
        description: definition.description,
        permissions: [...definition.permissions].sort(),
        inherits: [...definition.inherits].sort(),
        builtIn: true,
        effectivePermissions: expect.any(Array),
      });
    }
    expect((await service.get("ADMIN"))?.effectivePermissions).toEqual([...PERMISSIONS].sort());
    expect((await service.get("MANAGER"))?.effectivePermissions).toEqual([...BUILT_IN_ROLE_DEFINITIONS.MANAGER.permissions].sort());
    expect((await service.get("USER"))?.effectivePermissions).toEqual([]);
    expect(await service.get("NOBODY")).toBeUndefined();
  });
});

describe("custom roles", () => {
  it("creates a role inheriting MANAGER, audited, and moves the roles stamp", async () => {
    const before = await versions.current(admin.id);
    const created = await service.create(
      await principal(admin),
      { name: "TEAM_LEAD", description: " Leads a team ", permissions: ["audit:read"], inherits: ["MANAGER"] },
      meta,
    );
    expect(created).toEqual({
      name: "TEAM_LEAD",
      description: "Leads a team",
      permissions: ["audit:read"],
      inherits: ["MANAGER"],
      builtIn: false,
      effectivePermissions: [...new Set([...BUILT_IN_ROLE_DEFINITIONS.MANAGER.permissions, "audit:read"])].sort(),
    });
    expect(await service.get("TEAM_LEAD")).toEqual(created);
    const after = await versions.current(admin.id);
    expect(after.roles).not.toBe(before.roles);
    expect(after.user).toBe(before.user);

    const [row] = await auditRows("admin.role.created", "TEAM_LEAD");
    expect(row).toMatchObject({ actorType: "user", actorId: admin.id, outcome: "success", targetType: "role", requestId: meta.requestId });
    expect(row?.details).toEqual({
      after: { name: "TEAM_LEAD", description: "Leads a team", permissions: ["audit:read"], inherits: ["MANAGER"], builtIn: false },
    });
  });

  it("refuses bad definitions with the reason and field, writing nothing", async () => {
    const actor = await principal(admin);
    const before = await snapshot();
    const cases = [
      { input: { name: "support", permissions: [] }, code: "BAD_USER_INPUT", field: "name", message: /upper-case/ },
      {
        input: { name: "SUPPORT", permissions: ["users:read", "users:delete", "root"] },
        code: "BAD_USER_INPUT",
        field: "permissions",
        message: /^Unknown permissions: root, users:delete$/,
      },
      { input: { name: "SUPPORT", inherits: ["MANAGER", "GHOST"] }, code: "BAD_USER_INPUT", field: "inherits", message: /GHOST/ },
      { input: { name: "SUPPORT", inherits: ["SUPPORT"] }, code: "BAD_USER_INPUT", field: "inherits", message: /SUPPORT -> SUPPORT/ },
      { input: { name: "SUPPORT", description: "x".repeat(501) }, code: "BAD_USER_INPUT", field: "description", message: /500/ },
      { input: { name: "ADMIN" }, code: "CONFLICT", field: "name", message: /already exists/ },
    ];
    for (const { input, code, field, message } of cases) {
      const error = await refusal(service.create(actor, input, meta));
      expect(error.extensions, JSON.stringify(input)).toMatchObject({ code, field });
      expect(error.message).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("updates a role's description, permissions and parents, auditing before and after", async () => {
    const actor = await principal(admin);
    await service.create(actor, { name: "SUPPORT_AGENT", permissions: ["users:read"] }, meta);
    const stampBefore = (await versions.current(admin.id)).roles;
    const updated = await service.update(
      actor,
      "SUPPORT_AGENT",
      { description: "First line", permissions: ["agents:read", "users:read"], inherits: ["COMPLIANCE_OFFICER"] },
      meta,
    );
    expect(updated).toMatchObject({ description: "First line", permissions: ["agents:read", "users:read"], inherits: ["COMPLIANCE_OFFICER"] });
    expect(updated.effectivePermissions).toContain("audit:export");
    expect((await versions.current(admin.id)).roles).not.toBe(stampBefore);
    const [row] = await auditRows("admin.role.updated", "SUPPORT_AGENT");
    expect(row?.details).toEqual({
      before: { name: "SUPPORT_AGENT", description: "", permissions: ["users:read"], inherits: [], builtIn: false },
      after: {
        name: "SUPPORT_AGENT",
        description: "First line",
        permissions: ["agents:read", "users:read"],
        inherits: ["COMPLIANCE_OFFICER"],
        builtIn: false,
      },
    });

    // Absent and null fields stay; an update that changes nothing writes nothing.
    const unchanged = await snapshot();
    expect(await service.update(actor, "SUPPORT_AGENT", { description: null, permissions: ["users:read", "agents:read"] }, meta)).toEqual(
      updated,
    );
    expect(await snapshot()).toEqual(unchanged);

    // An empty list clears.
    const cleared = await service.update(actor, "SUPPORT_AGENT", { inherits: [] }, meta);
    expect(cleared.inherits).toEqual([]);
    expect(cleared.effectivePermissions).toEqual(["agents:read", "users:read"]);
  });

  it("refuses direct and transitive inheritance cycles, naming the path, writing nothing", async () => {
    const actor = await principal(admin);
    await service.create(actor, { name: "CYCLE_C" }, meta);
    await service.create(actor, { name: "CYCLE_B", inherits: ["CYCLE_C"] }, meta);
    await service.create(actor, { name: "CYCLE_A", inherits: ["CYCLE_B"] }, meta);
    const before = await snapshot();

    const direct = await refusal(service.update(actor, "CYCLE_B", { inherits: ["CYCLE_A"] }, meta));
    expect(direct.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "inherits" });
    expect(direct.message).toBe("Inheriting CYCLE_A would create a cycle: CYCLE_B -> CYCLE_A -> CYCLE_B");

    const transitive = await refusal(service.update(actor, "CYCLE_C", { inherits: ["MANAGER", "CYCLE_A"] }, meta));
    expect(transitive.message).toBe("Inheriting CYCLE_A would create a cycle: CYCLE_C -> CYCLE_A -> CYCLE_B -> CYCLE_C");

    const self = await refusal(service.update(actor, "CYCLE_A", { inherits: ["CYCLE_A"] }, meta));
    expect(self.message).toBe("Inheriting CYCLE_A would create a cycle: CYCLE_A -> CYCLE_A");

    expect(await snapshot()).toEqual(before);
  });

  it("refuses one of two concurrent edits that would together close a cycle", async () => {
    const actor = await principal(admin);
    await service.create(actor, { name: "RACE_A" }, meta);
    await service.create(actor, { name: "RACE_B" }, meta);
    const results = await Promise.allSettled([
      service.update(actor, "RACE_A", { inherits: ["RACE_B"] }, meta),
      service.update(actor, "RACE_B", { inherits: ["RACE_A"] }, meta),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((result) => result.status === "rejected");
    expect(String((refused as PromiseRejectedResult).reason.message)).toMatch(/would create a cycle: RACE_(A|B) -> RACE_(A|B) -> RACE_(A|B)/);
  });

  it("deletes a custom role with its grants and inherit edges, audited", async () => {
    const actor = await principal(admin);
    await service.create(actor, { name: "DOOMED", permissions: ["spend:read"] }, meta);
    await service.create(actor, { name: "DOOMED_CHILD", permissions: ["agents:read"], inherits: ["DOOMED"] }, meta);
    const holder = await newUser("doomed");
    await service.grant(actor, holder.id, "DOOMED", meta);
    expect((await principal(holder)).permissions.has("spend:read")).toBe(true);
    const stampBefore = (await versions.current(holder.id)).roles;

    await service.delete(actor, "DOOMED", meta);

    expect(await service.get("DOOMED")).toBeUndefined();
    expect(await grantedRoleNames(db, holder.id)).toEqual([]);
    expect(await service.get("DOOMED_CHILD")).toMatchObject({ inherits: [], effectivePermissions: ["agents:read"] });
    expect((await principal(holder)).permissions.has("spend:read")).toBe(false);
    expect((await versions.current(holder.id)).roles).not.toBe(stampBefore);
    const [row] = await auditRows("admin.role.deleted", "DOOMED");
    expect(row?.details).toEqual({
      before: { name: "DOOMED", description: "", permissions: ["spend:read"], inherits: [], builtIn: false },
      heldBy: [holder.id],
      inheritedBy: ["DOOMED_CHILD"],
    });
  });

  it("answers NOT_FOUND for changes to a role that does not exist", async () => {
    const actor = await principal(admin);
    expect((await refusal(service.update(actor, "GHOST", { description: "x" }, meta))).extensions.code).toBe("NOT_FOUND");
    expect((await refusal(service.delete(actor, "GHOST", meta))).extensions.code).toBe("NOT_FOUND");
  });
});

describe("built-in roles", () => {
  it("cannot be deleted", async () => {
    const actor = await principal(admin);
    const before = await snapshot();
    for (const name of BUILT_IN_ROLES) {
      const error = await refusal(service.delete(actor, name, meta));
      expect(error.extensions).toMatchObject({ code: "CONFLICT", field: "name" });
      expect(error.message).toBe(`${name} is a built-in role and cannot be deleted`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("keep their permissions and parents; their description may change", async () => {
    const actor = await principal(admin);
    const before = await snapshot();
    const permissions = await refusal(service.update(actor, "ADMIN", { permissions: ["users:read"] }, meta));
    expect(permissions.extensions).toMatchObject({ code: "CONFLICT", field: "permissions" });
    expect(permissions.message).toMatch(/ADMIN is a built-in role: its permissions and inherited roles are fixed/);
    const inherits = await refusal(service.update(actor, "MANAGER", { inherits: [] }, meta));
    expect(inherits.extensions).toMatchObject({ code: "CONFLICT", field: "inherits" });
    const mixed = await refusal(service.update(actor, "USER", { description: "Everyone", permissions: ["spend:read"] }, meta));
    expect(mixed.extensions.code).toBe("CONFLICT");
    expect(await snapshot()).toEqual(before);

    // The same sets, in any order, are not a change.
    const manager = BUILT_IN_ROLE_DEFINITIONS.MANAGER;
    const renamed = await service.update(
      actor,
      "MANAGER",
      { description: "Runs a team", permissions: [...manager.permissions].reverse(), inherits: ["USER"] },
      meta,
    );
    expect(renamed).toMatchObject({ name: "MANAGER", description: "Runs a team", builtIn: true, inherits: ["USER"] });
    const [row] = await auditRows("admin.role.updated", "MANAGER");
    expect(row?.details).toMatchObject({ before: { description: manager.description }, after: { description: "Runs a team" } });
  });
});

describe("granting and revoking", () => {
  it("grants and revokes, audited with before and after, moving only that user's stamp", async () => {
    const actor = await principal(admin);
    const user = await newUser("grantee");
    const bystander = await newUser("bystander");
    const [userBefore, bystanderBefore] = [await versions.current(user.id), await versions.current(bystander.id)];

    expect(await service.grant(actor, user.id, "COMPLIANCE_OFFICER", meta)).toBe(true);
    expect((await principal(user)).permissions.has("audit:export")).toBe(true);
    const userAfter = await versions.current(user.id);
    expect(userAfter.user).not.toBe(userBefore.user);
    expect(userAfter.roles).toBe(userBefore.roles);
    expect((await versions.current(bystander.id)).user).toBe(bystanderBefore.user);
    const [grantRow] = await db.select().from(userRoles).where(eq(userRoles.userId, user.id));
    expect(grantRow).toMatchObject({ roleName: "COMPLIANCE_OFFICER", grantedBy: admin.id });

    // Granting again changes nothing and is not audited again.
    const unchanged = await snapshot(user.id);
    expect(await service.grant(actor, user.id, "COMPLIANCE_OFFICER", meta)).toBe(false);
    expect(await snapshot(user.id)).toEqual(unchanged);

    expect(await service.grant(actor, user.id, "TEAM_LEAD", meta)).toBe(true);
    expect(await service.revoke(actor, user.id, "COMPLIANCE_OFFICER", meta)).toBe(true);
    expect(await grantedRoleNames(db, user.id)).toEqual(["TEAM_LEAD"]);
    expect(await service.revoke(actor, user.id, "COMPLIANCE_OFFICER", meta)).toBe(false);

    const granted = await auditRows("admin.role.granted", user.id);
    expect(granted.map((row) => row.details)).toEqual([
      { role: "COMPLIANCE_OFFICER", before: [], after: ["COMPLIANCE_OFFICER"] },
      { role: "TEAM_LEAD", before: ["COMPLIANCE_OFFICER"], after: ["COMPLIANCE_OFFICER", "TEAM_LEAD"] },
    ]);
    const revoked = await auditRows("admin.role.revoked", user.id);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ actorId: admin.id, targetType: "user", outcome: "success" });
    expect(revoked[0]?.details).toEqual({ role: "COMPLIANCE_OFFICER", before: ["COMPLIANCE_OFFICER", "TEAM_LEAD"], after: ["TEAM_LEAD"] });
  });

  it("refuses USER, unknown roles, unknown users and malformed ids, writing nothing", async () => {
    const actor = await principal(admin);
    const user = await newUser("refused");
    const before = await snapshot(user.id);
    for (const change of [service.grant, service.revoke]) {
      const implicit = await refusal(change(actor, user.id, "USER", meta));
      expect(implicit.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "role" });
      expect(implicit.message).toMatch(/USER is held by every account implicitly/);
      const unknownRole = await refusal(change(actor, user.id, "GHOST", meta));
      expect(unknownRole.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "role" });
      expect(unknownRole.message).toBe("No role named GHOST");
      const unknownUser = await refusal(change(actor, "00000000-0000-4000-8000-000000000000", "MANAGER", meta));
      expect(unknownUser.extensions.code).toBe("NOT_FOUND");
      const malformed = await refusal(change(actor, "not-an-id", "MANAGER", meta));
      expect(malformed.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "userId" });
    }
    expect(await snapshot(user.id)).toEqual(before);
  });

  it("keeps the last admin: ADMIN can be revoked only once someone else holds it", async () => {
    const admins = await db.select().from(userRoles).where(eq(userRoles.roleName, "ADMIN"));
    expect(admins.map((row) => row.userId)).toEqual([admin.id]);
    const actor = await principal(admin);
    const before = await snapshot();
    const alone = await refusal(service.revoke(actor, admin.id, "ADMIN", meta));
    expect(alone.extensions.code).toBe("CONFLICT");
    expect(alone.message).toMatch(/last administrator/);
    expect(await snapshot()).toEqual(before);

    const second = await newUser("second-admin");
    expect(await service.grant(actor, second.id, "ADMIN", meta)).toBe(true);
    expect(await service.revoke(actor, admin.id, "ADMIN", meta)).toBe(true);
    // Now `second` is alone, and keeps it; the first admin is restored for the tests after this one.
    const secondActor = await principal(second);
    expect((await refusal(service.revoke(secondActor, second.id, "ADMIN", meta))).extensions.code).toBe("CONFLICT");
    expect(await service.grant(secondActor, admin.id, "ADMIN", meta)).toBe(true);

    // Two admins taking ADMIN from each other at once: one of them keeps it.
    const crossed = await Promise.allSettled([
      service.revoke(actor, second.id, "ADMIN", meta),
      service.revoke(secondActor, admin.id, "ADMIN", meta),
    ]);
    expect(crossed.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const remaining = await db.select().from(userRoles).where(eq(userRoles.roleName, "ADMIN"));
    expect(remaining).toHaveLength(1);
    if (remaining[0]?.userId !== admin.id) {
      expect(await service.grant(secondActor, admin.id, "ADMIN", meta)).toBe(true);
      expect(await service.revoke(actor, second.id, "ADMIN", meta)).toBe(true);
    }
  });
});

describe("who may manage roles", () => {
  it("refuses every change to someone without roles:write", async () => {
    const manager = await principal(await newUser("manager", ["MANAGER"]));
    const target = await newUser("target");
    const before = await snapshot();
    const attempts = [
      service.create(manager, { name: "NOPE" }, meta),
      service.update(manager, "TEAM_LEAD", { description: "x" }, meta),
      service.delete(manager, "TEAM_LEAD", meta),
      service.grant(manager, target.id, "TEAM_LEAD", meta),
      service.revoke(manager, target.id, "TEAM_LEAD", meta),
    ];
    for (const attempt of attempts) expect((await refusal(attempt)).extensions.code).toBe("FORBIDDEN");
    expect(await snapshot()).toEqual(before);
  });

  it("lets a custom role manager hand out only what it holds itself", async () => {
    await db.insert(roles).values({ name: "ROLE_KEEPER", permissions: ["roles:read", "roles:write", "users:read"] });
    const keeper = await principal(await newUser("keeper", ["ROLE_KEEPER"]));
    const target = await newUser("kept");

    const beyond = await refusal(service.create(keeper, { name: "AUDITORS", permissions: ["audit:read"] }, meta));
    expect(beyond.extensions.code).toBe("FORBIDDEN");
    expect(beyond.message).toBe("You can only hand out what you hold yourself; you lack permission audit:read");
    const viaParent = await refusal(service.create(keeper, { name: "AUDITORS", inherits: ["COMPLIANCE_OFFICER"] }, meta));
    expect(viaParent.message).toMatch(/role COMPLIANCE_OFFICER, permission agents:read/);
    expect((await refusal(service.grant(keeper, target.id, "MANAGER", meta))).extensions.code).toBe("FORBIDDEN");
    expect((await refusal(service.grant(keeper, target.id, "ADMIN", meta))).extensions.code).toBe("FORBIDDEN");

    await service.create(keeper, { name: "READERS", permissions: ["users:read"] }, meta);
    expect(await service.grant(keeper, target.id, "READERS", meta)).toBe(true);
    // Taking away is not handing out: the keeper may trim a role that confers more than it holds.
    expect((await service.update(keeper, "TEAM_LEAD", { permissions: [] }, meta)).permissions).toEqual([]);
  });
});

describe("a change takes effect on the next request", () => {
  it("the same access token sees a grant, a role edit and a revoke at once", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-roles-"));
    const accessTokens = createAccessTokenService({
      keys: loadSigningKeys({ jwtSecret: "roles-service-test-secret-0123456789abcdef", dataDir }),
      issuer: "roles-test",
      audience: "roles-test",
      ttlMs: 15 * 60_000,
      clock,
    });
    const resolver = createPrincipalResolver({ db, accessTokens, versions, roleCatalog: createRoleCatalog(db), clock, mfaRequiredRoles: [] });
    const actor = await principal(admin);
    const user = await newUser("next-request");
    const [session] = await db
      .insert(sessions)
      .values({ userId: user.id, idleExpiresAt: new Date(clock.now().getTime() + 3_600_000), expiresAt: new Date(clock.now().getTime() + 86_400_000) })
      .returning();
    const { token } = accessTokens.issue({ userId: user.id, sessionId: session!.id, roles: ["USER"], notAfter: session!.expiresAt });
    const current = async () => {
      const resolution = await resolver.resolve(token);
      if (!resolution.ok) throw new Error(`token refused: ${resolution.reason}`);
      return resolution.principal;
    };

    expect((await current()).roles).toEqual(["USER"]);
    await service.create(actor, { name: "DEPUTY", inherits: ["MANAGER"] }, meta);
    expect(await current()).toMatchObject({ roles: ["USER"] });

    await service.grant(actor, user.id, "DEPUTY", meta);
    const granted = await current();
    expect(granted.roles).toEqual(["DEPUTY", "MANAGER", "USER"]);
    expect(allows({ requires: "MANAGER" }, granted)).toBe(true);
    expect(allows({ permission: "users:read" }, granted)).toBe(true);
    expect(allows({ permission: "audit:read" }, granted)).toBe(false);

    await service.update(actor, "DEPUTY", { permissions: ["audit:read"] }, meta);
    expect(allows({ permission: "audit:read" }, await current())).toBe(true);

    await service.revoke(actor, user.id, "DEPUTY", meta);
    const revoked = await current();
    expect(revoked.roles).toEqual(["USER"]);
    expect(allows({ requires: "MANAGER" }, revoked)).toBe(false);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("the audit trail", () => {
  it("holds one row per change made in this file, all by users, none for refusals", async () => {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(inArray(auditEvents.action, ["admin.role.created", "admin.role.updated", "admin.role.deleted", "admin.role.granted", "admin.role.revoked"]));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.actorType === "user" && row.outcome === "success")).toBe(true);
    expect(rows.filter((row) => row.targetId === "NOPE" || row.targetId === "AUDITORS" || row.targetId === "GHOST")).toEqual([]);
  });
});
