import fs from "node:fs";
import path from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { and, asc, eq, inArray } from "drizzle-orm";
import { Kind, parse, print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrincipalVersions } from "../../src/auth/principal-versions";
import { BUILT_IN_ROLE_DEFINITIONS, BUILT_IN_ROLES, type BuiltInRole } from "../../src/auth/roles";
import { auditEvents, roles, userRoles } from "../../src/db/schema";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { PROJECT_ROOT } from "../../src/paths";
import { MeDocument, SessionsDocument, type SessionCredentialsFragment } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode, type GraphQLResponse } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Role administration through the real endpoint. Operations come from
 * tests/operations/roles.graphql (after `npm run codegen` they are also in tests/generated).
 */
interface RoleFields {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  builtIn: boolean;
  effectivePermissions: string[];
}
interface RoleInput {
  name?: string;
  description?: string | null;
  permissions?: string[] | null;
  inherits?: string[] | null;
}

const ROLE_OPERATIONS = parse(fs.readFileSync(path.join(PROJECT_ROOT, "tests/operations/roles.graphql"), "utf8"));

/** One named operation of roles.graphql with the fragments it spreads. */
function operation<TData, TVariables>(name: string): TypedDocumentNode<TData, TVariables> {
  const found = ROLE_OPERATIONS.definitions.find(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.name?.value === name,
  );
  if (!found) throw new Error(`no operation ${name} in roles.graphql`);
  const fragments = ROLE_OPERATIONS.definitions.filter(
    (definition) => definition.kind === Kind.FRAGMENT_DEFINITION && print(found).includes(`...${definition.name.value}`),
  );
  return { kind: Kind.DOCUMENT, definitions: [found, ...fragments] } as TypedDocumentNode<TData, TVariables>;
}

const RolesDocument = operation<{ roles: RoleFields[] }, Record<string, never>>("Roles");
const RoleByNameDocument = operation<{ role: RoleFields | null }, { name: string }>("RoleByName");
const CreateRoleDocument = operation<{ createRole: RoleFields }, { input: RoleInput & { name: string } }>("CreateRole");
const UpdateRoleDocument = operation<{ updateRole: RoleFields }, { name: string; input: RoleInput }>("UpdateRole");
const DeleteRoleDocument = operation<{ deleteRole: boolean }, { name: string }>("DeleteRole");
const GrantRoleDocument = operation<{ grantRole: boolean }, { userId: string; role: string }>("GrantRole");
const RevokeRoleDocument = operation<{ revokeRole: boolean }, { userId: string; role: string }>("RevokeRole");

let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

const as = (credentials: { accessToken: string }) => ({ token: credentials.accessToken });

/** A registered user holding `role` (stored directly, as a seed builder would). */
async function userWithRole(role: BuiltInRole) {
  const user = await registerUser(server.client);
  if (role !== "USER") {
    await server.app.database.db.insert(userRoles).values({ userId: user.user.id, roleName: role });
    await createPrincipalVersions(server.app.store).bumpUser(user.user.id);
  }
  return user;
}

function expectRefused(response: GraphQLResponse<unknown>, code: string, field?: string): string {
  expect(response.errors?.[0]?.extensions, JSON.stringify(response.errors)).toMatchObject(field ? { code, field } : { code });
  return response.errors?.[0]?.message ?? "";
}

async function auditRows(actions: string[], targetId: string) {
  return server.app.database.db
    .select()
    .from(auditEvents)
    .where(and(inArray(auditEvents.action, actions), eq(auditEvents.targetId, targetId)))
    .orderBy(asc(auditEvents.seq));
}

describe("access to role administration", () => {
  it("declares its rules in the SDL", () => {
    const sdl = printSchemaWithDirectives(buildAppSchema());
    expect(sdl).toMatch(/roles: \[Role!\]! @auth\(permission: "roles:read"\)/);
    expect(sdl).toMatch(/role\(name: String!\): Role @auth\(permission: "roles:read"\)/);
    for (const field of ["createRole", "updateRole", "deleteRole", "grantRole", "revokeRole"]) {
      expect(sdl).toMatch(new RegExp(`${field}\\([^)]*\\): (Role|Boolean)! @auth\\(permission: "roles:write"\\)`));
    }
  });

  it("lets ADMIN read and change roles, and refuses USER, MANAGER and COMPLIANCE_OFFICER", async () => {
    const { client } = server;
    const target = await registerUser(client);
    const attempts = (name: string) =>
      [
        [RolesDocument, {}],
        [RoleByNameDocument, { name: "MANAGER" }],
        [CreateRoleDocument, { input: { name, permissions: ["users:read"] } }],
        [UpdateRoleDocument, { name, input: { description: "changed" } }],
        [GrantRoleDocument, { userId: target.user.id, role: name }],
        [RevokeRoleDocument, { userId: target.user.id, role: name }],
        [DeleteRoleDocument, { name }],
      ] as const;

    for (const role of BUILT_IN_ROLES.filter((candidate) => candidate !== "ADMIN")) {
      const caller = await userWithRole(role);
      for (const [document, variables] of attempts(`MATRIX_${role}`)) {
        const response = await client.request(document as TypedDocumentNode<unknown, unknown>, variables, as(caller));
        expect(errorCode(response), `${role} ${JSON.stringify(variables)}`).toBe("FORBIDDEN");
        expect(response.errors?.[0]?.message).toMatch(/needs permission roles:(read|write)/);
      }
      expect(await server.app.database.db.select().from(roles).where(eq(roles.name, `MATRIX_${role}`))).toEqual([]);
    }

    for (const [document, variables] of attempts("MATRIX_ADMIN")) {
      const response = await client.request(document as TypedDocumentNode<unknown, unknown>, variables, as(admin));
      expect(response.errors, JSON.stringify(variables)).toBeUndefined();
    }
    const anonymous = await client.request(RolesDocument, {});
    expect(errorCode(anonymous)).toBe("UNAUTHENTICATED");
  });

  it("lists the built-in roles with their effective permissions", async () => {
    const { roles: listed } = await server.client.ok(RolesDocument, {}, as(admin));
    for (const name of BUILT_IN_ROLES) {
      expect(listed.find((role) => role.name === name)).toMatchObject({
        builtIn: true,
        permissions: [...BUILT_IN_ROLE_DEFINITIONS[name].permissions].sort(),
        inherits: [...BUILT_IN_ROLE_DEFINITIONS[name].inherits].sort(),
      });
    }
    const adminRole = listed.find((role) => role.name === "ADMIN");
    expect(adminRole?.effectivePermissions).toEqual(expect.arrayContaining(["users:read", "audit:export", "roles:write"]));
    expect((await server.client.ok(RoleByNameDocument, { name: "NOBODY" }, as(admin))).role).toBeNull();
  });
});

describe("custom roles", () => {
  it("a role inheriting MANAGER confers MANAGER and its permissions on whoever holds it", async () => {
    const { client } = server;
    const created = await client.ok(CreateRoleDocument, { input: { name: "DEPUTY", description: "Stands in", inherits: ["MANAGER"] } }, as(admin));
    expect(created.createRole).toEqual({
      name: "DEPUTY",
      description: "Stands in",
      permissions: [],
      inherits: ["MANAGER"],
      builtIn: false,
      effectivePermissions: [...BUILT_IN_ROLE_DEFINITIONS.MANAGER.permissions].sort(),
    });

    const deputy = await registerUser(client);
    const other = await registerUser(client);
    expect((await client.ok(GrantRoleDocument, { userId: deputy.user.id, role: "DEPUTY" }, as(admin))).grantRole).toBe(true);
    const me = await client.ok(MeDocument, {}, as(deputy));
    expect(me.me?.roles).toEqual(["DEPUTY", "MANAGER", "USER"]);
    const sessions = await client.ok(SessionsDocument, { userId: other.user.id }, as(deputy));
    expect(sessions.sessions.map((session) => session.id)).toEqual([other.sessionId]);

    const [row] = await auditRows(["admin.role.created"], "DEPUTY");
    expect(row).toMatchObject({ actorType: "user", actorId: admin.user.id, outcome: "success" });
  });

  it("refuses direct and transitive cycles, naming the cycle, writing nothing", async () => {
    const { client } = server;
    await client.ok(CreateRoleDocument, { input: { name: "LOOP_C" } }, as(admin));
    await client.ok(CreateRoleDocument, { input: { name: "LOOP_B", inherits: ["LOOP_C"] } }, as(admin));
    await client.ok(CreateRoleDocument, { input: { name: "LOOP_A", inherits: ["LOOP_B"] } }, as(admin));

    const direct = await client.request(UpdateRoleDocument, { name: "LOOP_B", input: { inherits: ["LOOP_A"] } }, as(admin));
    expect(expectRefused(direct, "BAD_USER_INPUT", "inherits")).toBe("Inheriting LOOP_A would create a cycle: LOOP_B -> LOOP_A -> LOOP_B");
    const transitive = await client.request(UpdateRoleDocument, { name: "LOOP_C", input: { inherits: ["LOOP_A"] } }, as(admin));
    expect(expectRefused(transitive, "BAD_USER_INPUT", "inherits")).toBe(
      "Inheriting LOOP_A would create a cycle: LOOP_C -> LOOP_A -> LOOP_B -> LOOP_C",
    );
    const self = await client.request(CreateRoleDocument, { input: { name: "LOOP_SELF", inherits: ["LOOP_SELF"] } }, as(admin));
    expect(expectRefused(self, "BAD_USER_INPUT", "inherits")).toMatch(/LOOP_SELF -> LOOP_SELF/);

    expect((await client.ok(RoleByNameDocument, { name: "LOOP_B" }, as(admin))).role?.inherits).toEqual(["LOOP_C"]);
    expect((await client.ok(RoleByNameDocument, { name: "LOOP_C" }, as(admin))).role?.inherits).toEqual([]);
    expect((await client.ok(RoleByNameDocument, { name: "LOOP_SELF" }, as(admin))).role).toBeNull();
    for (const name of ["LOOP_B", "LOOP_C"]) expect(await auditRows(["admin.role.updated"], name)).toEqual([]);
  });

  it("refuses bad input with the field at fault", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const unknown = await client.request(CreateRoleDocument, { input: { name: "BAD_ONE", permissions: ["users:read", "root"] } }, as(admin));
    expect(expectRefused(unknown, "BAD_USER_INPUT", "permissions")).toBe("Unknown permissions: root");
    expectRefused(await client.request(CreateRoleDocument, { input: { name: "bad name" } }, as(admin)), "BAD_USER_INPUT", "name");
    expectRefused(await client.request(CreateRoleDocument, { input: { name: "BAD_TWO", inherits: ["GHOST"] } }, as(admin)), "BAD_USER_INPUT", "inherits");
    const implicit = await client.request(GrantRoleDocument, { userId: user.user.id, role: "USER" }, as(admin));
    expect(expectRefused(implicit, "BAD_USER_INPUT", "role")).toMatch(/implicitly/);
    expectRefused(await client.request(RevokeRoleDocument, { userId: user.user.id, role: "USER" }, as(admin)), "BAD_USER_INPUT", "role");
    expectRefused(await client.request(GrantRoleDocument, { userId: user.user.id, role: "GHOST" }, as(admin)), "BAD_USER_INPUT", "role");
    expectRefused(
      await client.request(GrantRoleDocument, { userId: "00000000-0000-4000-8000-000000000000", role: "MANAGER" }, as(admin)),
      "NOT_FOUND",
    );
    expectRefused(await client.request(UpdateRoleDocument, { name: "GHOST", input: { description: "x" } }, as(admin)), "NOT_FOUND");
  });

  it("deletes a custom role with its grants, and every change is audited with before and after", async () => {
    const { client } = server;
    const holder = await registerUser(client);
    const requestId = "roles-audit-0001";
    const options = { ...as(admin), headers: { "x-request-id": requestId } };
    await client.ok(CreateRoleDocument, { input: { name: "TEMP_ROLE", permissions: ["spend:read"] } }, options);
    await client.ok(UpdateRoleDocument, { name: "TEMP_ROLE", input: { permissions: ["spend:read", "agents:read"] } }, options);
    await client.ok(GrantRoleDocument, { userId: holder.user.id, role: "TEMP_ROLE" }, options);
    expect((await client.ok(DeleteRoleDocument, { name: "TEMP_ROLE" }, options)).deleteRole).toBe(true);
    expect(await server.app.database.db.select().from(userRoles).where(eq(userRoles.userId, holder.user.id))).toEqual([]);
    expect((await client.ok(MeDocument, {}, as(holder))).me?.roles).toEqual(["USER"]);

    const roleRows = await auditRows(["admin.role.created", "admin.role.updated", "admin.role.deleted"], "TEMP_ROLE");
    expect(roleRows.map((row) => row.action)).toEqual(["admin.role.created", "admin.role.updated", "admin.role.deleted"]);
    expect(roleRows[1]?.details).toMatchObject({
      before: { permissions: ["spend:read"] },
      after: { permissions: ["agents:read", "spend:read"] },
    });
    expect(roleRows[2]?.details).toMatchObject({ heldBy: [holder.user.id], inheritedBy: [] });
    const [grant] = await auditRows(["admin.role.granted"], holder.user.id);
    expect(grant?.details).toEqual({ role: "TEMP_ROLE", before: [], after: ["TEMP_ROLE"] });
    for (const row of [...roleRows, grant]) {
      expect(row).toMatchObject({ actorType: "user", actorId: admin.user.id, requestId, outcome: "success" });
    }
  });
});

describe("built-in roles", () => {
  it("cannot be deleted, and keep their permissions and parents", async () => {
    const { client } = server;
    for (const name of BUILT_IN_ROLES) {
      const response = await client.request(DeleteRoleDocument, { name }, as(admin));
      expect(expectRefused(response, "CONFLICT", "name")).toBe(`${name} is a built-in role and cannot be deleted`);
    }
    const edit = await client.request(UpdateRoleDocument, { name: "ADMIN", input: { permissions: ["users:read"] } }, as(admin));
    expect(expectRefused(edit, "CONFLICT", "permissions")).toMatch(/built-in role/);
    const parents = await client.request(UpdateRoleDocument, { name: "COMPLIANCE_OFFICER", input: { inherits: ["MANAGER"] } }, as(admin));
    expectRefused(parents, "CONFLICT", "inherits");
    const { roles: listed } = await client.ok(RolesDocument, {}, as(admin));
    expect(listed.filter((role) => role.builtIn).map((role) => role.name).sort()).toEqual([...BUILT_IN_ROLES].sort());
    expect(listed.find((role) => role.name === "ADMIN")?.permissions).toEqual([...BUILT_IN_ROLE_DEFINITIONS.ADMIN.permissions].sort());
  });
});

describe("a role change takes effect on the user's next request", () => {
  it("a grant and a revoke change what the same access token may do", async () => {
    const { client } = server;
    const reader = await registerUser(client);
    const other = await registerUser(client);
    const readOther = () => client.request(SessionsDocument, { userId: other.user.id }, as(reader));
    expect(errorCode(await readOther())).toBe("FORBIDDEN");

    await client.ok(GrantRoleDocument, { userId: reader.user.id, role: "COMPLIANCE_OFFICER" }, as(admin));
    const allowed = await readOther();
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data?.sessions.map((session) => session.id)).toEqual([other.sessionId]);

    await client.ok(RevokeRoleDocument, { userId: reader.user.id, role: "COMPLIANCE_OFFICER" }, as(admin));
    expect(errorCode(await readOther())).toBe("FORBIDDEN");
  });

  it("so does an edit to a role the user holds, and its deletion", async () => {
    const { client } = server;
    const holder = await registerUser(client);
    const other = await registerUser(client);
    const readOther = () => client.request(SessionsDocument, { userId: other.user.id }, as(holder));
    await client.ok(CreateRoleDocument, { input: { name: "LATE_READER" } }, as(admin));
    await client.ok(GrantRoleDocument, { userId: holder.user.id, role: "LATE_READER" }, as(admin));
    expect(errorCode(await readOther())).toBe("FORBIDDEN");

    await client.ok(UpdateRoleDocument, { name: "LATE_READER", input: { permissions: ["users:read"] } }, as(admin));
    expect((await readOther()).errors).toBeUndefined();

    await client.ok(DeleteRoleDocument, { name: "LATE_READER" }, as(admin));
    expect(errorCode(await readOther())).toBe("FORBIDDEN");
  });
});

describe("the last administrator", () => {
  it("keeps ADMIN while alone, and can give it up once another user holds it", async () => {
    const { client } = server;
    const alone = await client.request(RevokeRoleDocument, { userId: admin.user.id, role: "ADMIN" }, as(admin));
    expect(expectRefused(alone, "CONFLICT")).toMatch(/last administrator/);
    expect((await client.ok(MeDocument, {}, as(admin))).me?.roles).toContain("ADMIN");

    const successor = await registerUser(client);
    expect(errorCode(await client.request(RolesDocument, {}, as(successor)))).toBe("FORBIDDEN");
    await client.ok(GrantRoleDocument, { userId: successor.user.id, role: "ADMIN" }, as(admin));
    expect((await client.ok(RevokeRoleDocument, { userId: admin.user.id, role: "ADMIN" }, as(admin))).revokeRole).toBe(true);

    // Both tokens predate these changes; each one's next request sees them.
    expect(errorCode(await client.request(RolesDocument, {}, as(admin)))).toBe("FORBIDDEN");
    expect((await client.request(RolesDocument, {}, as(successor))).errors).toBeUndefined();
    const successorAlone = await client.request(RevokeRoleDocument, { userId: successor.user.id, role: "ADMIN" }, as(successor));
    expectRefused(successorAlone, "CONFLICT");

    const revoked = await auditRows(["admin.role.revoked"], admin.user.id);
    expect(revoked.map((row) => row.details)).toEqual([{ role: "ADMIN", before: ["ADMIN"], after: [] }]);
  });
});
