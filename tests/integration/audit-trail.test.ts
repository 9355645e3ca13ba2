import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_IN_ROLE_DEFINITIONS, BUILT_IN_ROLES } from "../../src/auth/roles";
import { PERMISSIONS } from "../../src/auth/permissions";
import { auditEvents, roleInherits, roles } from "../../src/db/schema";
import { registerUser } from "../support/fixtures";
import { startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await registerUser(server.client);
});
afterAll(() => server.close());

describe("the audit trail is append-only in the database itself", () => {
  const attempts: [string, string][] = [
    ["UPDATE", "UPDATE audit_events SET action = 'tampered'"],
    ["DELETE", "DELETE FROM audit_events"],
    ["TRUNCATE", "TRUNCATE audit_events"],
  ];
  for (const [verb, statement] of attempts) {
    it(`refuses ${verb}`, async () => {
      const { db } = server.app.database;
      const before = await db.select().from(auditEvents);
      expect(before.length).toBeGreaterThan(0);
      const error = await db.execute(sql.raw(statement)).then(
        () => undefined,
        (failure: Error & { cause?: Error }) => failure,
      );
      // drizzle wraps the database's own error; the trigger's message is on the cause.
      expect(error?.cause?.message ?? error?.message).toMatch(/append-only/);
      expect(await db.select().from(auditEvents)).toEqual(before);
    });
  }
});

describe("built-in roles", () => {
  it("are seeded by migration exactly as the code defines them", async () => {
    const { db } = server.app.database;
    const seeded = await db.select().from(roles);
    const edges = await db.select().from(roleInherits);
    for (const name of BUILT_IN_ROLES) {
      const row = seeded.find((role) => role.name === name);
      const definition = BUILT_IN_ROLE_DEFINITIONS[name];
      expect(row, name).toBeDefined();
      expect(row?.builtIn).toBe(true);
      expect([...(row?.permissions ?? [])].sort()).toEqual([...definition.permissions].sort());
      const parents = edges.filter((edge) => edge.roleName === name).map((edge) => edge.parentName);
      expect(parents.sort()).toEqual([...definition.inherits].sort());
    }
    const every = new Set(seeded.flatMap((role) => role.permissions));
    for (const permission of every) expect(PERMISSIONS).toContain(permission);
  });
});
