import "reflect-metadata";
import crypto from "node:crypto";
import { getDirective } from "@graphql-tools/utils";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRoles } from "../../src/auth/role-graph";
import { BUILT_IN_ROLE_DEFINITIONS, BUILT_IN_ROLES, type BuiltInRole } from "../../src/auth/roles";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Every root field guarded by `@auth(requires:)` / `@auth(permission:)`, called by a holder of
 * each built-in role: refused with FORBIDDEN exactly when the role (with what it inherits)
 * lacks what the field declares. Arguments are harmless placeholders: an allowed call may
 * then fail validation or find nothing, which is fine: only the access decision is judged.
 */
const schema = buildAppSchema();
const graph = new Map(
  BUILT_IN_ROLES.map((name) => [name, { permissions: BUILT_IN_ROLE_DEFINITIONS[name].permissions, inherits: BUILT_IN_ROLE_DEFINITIONS[name].inherits }]),
);

function placeholder(type: GraphQLInputType): string {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return "[]";
  const named = getNamedType(type);
  if (isEnumType(named)) return named.getValues()[0]?.name ?? "null";
  if (isInputObjectType(named)) {
    const fields = Object.values(named.getFields()).filter((field) => isNonNullType(field.type) && field.defaultValue === undefined);
    return `{ ${fields.map((field) => `${field.name}: ${placeholder(field.type)}`).join(", ")} }`;
  }
  if (isScalarType(named)) {
    if (named.name === "ID") return JSON.stringify(crypto.randomUUID());
    if (named.name === "Int") return "1";
    if (named.name === "Money") return "1";
    if (named.name === "Boolean") return "false";
    if (named.name === "DateTimeISO") return JSON.stringify("2030-01-01T00:00:00Z");
  }
  return JSON.stringify("placeholder");
}

function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isScalarType(named) || isEnumType(named) ? "" : " { __typename }";
}

function operationFor(kind: "query" | "mutation", field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((arg) => isNonNullType(arg.type));
  const argText = args.length > 0 ? `(${args.map((arg) => `${arg.name}: ${placeholder(arg.type)}`).join(", ")})` : "";
  return `${kind} { ${field.name}${argText}${selection(field)} }`;
}

const guarded: { kind: "query" | "mutation"; field: GraphQLField<unknown, unknown>; requires?: string; permission?: string }[] = [];
for (const [kind, root] of [["query", schema.getQueryType()], ["mutation", schema.getMutationType()]] as const) {
  for (const field of Object.values((root as GraphQLObjectType).getFields())) {
    const rule = getDirective(schema, field, "auth")?.[0] as { requires?: string; permission?: string; agent?: boolean } | undefined;
    if (!rule || rule.agent || (!rule.permission && (!rule.requires || rule.requires === "USER"))) continue;
    guarded.push({ kind, field, requires: rule.requires, permission: rule.permission });
  }
}

let server: TestServer;
const tokens = new Map<BuiltInRole, string>();
beforeAll(async () => {
  server = await startTestServer();
  const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  for (const role of BUILT_IN_ROLES) {
    const user = await registerUser(server.client);
    if (role !== "USER") {
      await server.client.ok(`mutation ($id: ID!, $role: String!) { grantRole(userId: $id, role: $role) }`, { id: user.user.id, role }, { token: admin.accessToken });
    }
    tokens.set(role, user.accessToken);
  }
});
afterAll(() => server.close());

describe("the access matrix: every guarded root field against every built-in role", () => {
  it("covers the guarded fields", () => {
    expect(guarded.map((entry) => entry.field.name)).toEqual(expect.arrayContaining(["users", "audit", "createRole", "unlockUser"]));
  });

  for (const role of BUILT_IN_ROLES) {
    it(`${role}: allowed exactly where its permissions reach`, async () => {
      const held = resolveRoles([role, "USER"], graph);
      for (const entry of guarded) {
        const allowed = (!entry.requires || held.roles.includes(entry.requires)) && (!entry.permission || held.permissions.has(entry.permission));
        const response = await server.client.raw(JSON.stringify({ query: operationFor(entry.kind, entry.field) }), { token: tokens.get(role) });
        const forbidden = errorCode(response) === "FORBIDDEN";
        expect(forbidden, `${role} on ${entry.kind} ${entry.field.name}: ${JSON.stringify(response.errors?.[0])}`).toBe(!allowed);
      }
    });
  }

  it("refuses every guarded field to an anonymous caller", async () => {
    for (const entry of guarded) {
      const response = await server.client.raw(JSON.stringify({ query: operationFor(entry.kind, entry.field) }));
      expect(errorCode(response), entry.field.name).toBe("UNAUTHENTICATED");
    }
  });
});
