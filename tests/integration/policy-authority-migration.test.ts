import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGLITE_EXTENSIONS } from "../../src/db/database";
import { policies, policyVersions } from "../../src/db/schema";
import { DEFAULT_POLICY_ID, fromRow, fromSnapshot, toPolicy } from "../../src/policies/policy-codec";
import { MIGRATIONS_FOLDER } from "../../src/paths";

/**
 * Migration 0011 classifies the policies that existed before authorities were recorded: a
 * live AGENT policy stays OVERRIDE only when its creator and last writer hold policies:write
 * (through any role, inherited ones included); every other live AGENT policy becomes a
 * RESTRICTION in a new version whose snapshot says so; other scopes stay OVERRIDE. The SQL is
 * plain PostgreSQL, run here on an embedded database of its own whatever the test backend.
 */
const LAST_BEFORE = "0010_drop_single_audit_append";
const id = (n: number) => `00000000-0000-4000-8000-0000000001${n.toString().padStart(2, "0")}`;
const ADMIN = id(1);
const DEPUTY = id(2);
const OWNER = id(3);
const GONE = id(4);

let client: PGlite;
let dir: string;

beforeAll(async () => {
  // The migrations up to 0010 only: a database as it was before authorities existed.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-migration-"));
  fs.mkdirSync(path.join(dir, "meta"));
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: { idx: number; tag: string }[] };
  const cut = journal.entries.findIndex((entry) => entry.tag === LAST_BEFORE);
  const before = journal.entries.slice(0, cut + 1);
  fs.writeFileSync(path.join(dir, "meta", "_journal.json"), JSON.stringify({ ...journal, entries: before }));
  for (const entry of before) fs.copyFileSync(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), path.join(dir, `${entry.tag}.sql`));

  client = new PGlite({ extensions: PGLITE_EXTENSIONS });
  const db = drizzle({ client });
  await migrate(db, { migrationsFolder: dir });
  await client.exec(`
    INSERT INTO users (id, email) VALUES ('${ADMIN}', 'admin@example.com'), ('${DEPUTY}', 'deputy@example.com'), ('${OWNER}', 'owner@example.com');
    INSERT INTO roles (name, description, permissions) VALUES ('DEPUTY', 'inherits ADMIN', '{}');
    INSERT INTO role_inherits (role_name, parent_name) VALUES ('DEPUTY', 'ADMIN');
    INSERT INTO user_roles (user_id, role_name) VALUES ('${ADMIN}', 'ADMIN'), ('${DEPUTY}', 'DEPUTY');
  `);
  const agentPolicy = (n: number, createdBy: string | null, updatedBy: string | null, extra = "") => `
    INSERT INTO policies (id, name, scope, scope_id, version, rules, caps, created_by, updated_by ${extra ? ", deleted_at" : ""})
    VALUES ('${id(10 + n)}', 'p${n}', 'AGENT', 'agent-${n}', 3,
      '[{"id":"r","pattern":"llm.*","effect":"ALLOW","maxCostPerAction":null,"locked":false}]'::jsonb,
      '[{"id":"c","per":"AGENT","window":"DAY","limit":"5000000","locked":false}]'::jsonb,
      ${createdBy === null ? "NULL" : `'${createdBy}'`}, ${updatedBy === null ? "NULL" : `'${updatedBy}'`} ${extra});`;
  await client.exec(
    [
      agentPolicy(1, ADMIN, ADMIN),
      agentPolicy(2, DEPUTY, null),
      agentPolicy(3, OWNER, OWNER),
      agentPolicy(4, OWNER, ADMIN),
      agentPolicy(5, GONE, GONE),
      agentPolicy(6, null, null),
      agentPolicy(7, OWNER, OWNER, ", now()"),
      `INSERT INTO policies (id, name, scope, scope_id, created_by, updated_by) VALUES ('${id(20)}', 'owner''s user policy', 'USER', '${OWNER}', '${OWNER}', '${OWNER}');`,
    ].join("\n"),
  );
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
});
afterAll(async () => {
  await client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("migration 0011: the authority of existing policies", () => {
  it("keeps override power only for AGENT policies every writer of which holds policies:write now", async () => {
    const db = drizzle({ client });
    const rows = await db.select().from(policies).orderBy(asc(policies.id));
    const of = (policyId: string) => rows.find((row) => row.id === policyId);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => [n, of(id(10 + n))?.authority, of(id(10 + n))?.version])).toEqual([
      [1, "OVERRIDE", 3],
      [2, "OVERRIDE", 3],
      [3, "RESTRICTION", 4],
      [4, "RESTRICTION", 4],
      [5, "RESTRICTION", 4],
      [6, "RESTRICTION", 4],
      [7, "OVERRIDE", 3],
    ]);
    expect(of(id(20))?.authority).toBe("OVERRIDE");
    expect(of(DEFAULT_POLICY_ID)).toMatchObject({ authority: "OVERRIDE", version: 1 });
  });

  it("writes a new version for each policy it restricts, whose snapshot is the policy as the evaluator reads it", async () => {
    const db = drizzle({ client });
    for (const n of [3, 4, 5, 6]) {
      const [row] = await db.select().from(policies).where(eq(policies.id, id(10 + n)));
      const versions = await db.select().from(policyVersions).where(eq(policyVersions.policyId, id(10 + n)));
      expect(versions.map((version) => [version.version, version.change, version.changedBy])).toEqual([[4, "UPDATED", null]]);
      const snapshot = fromSnapshot(versions[0]!.snapshot);
      expect(toPolicy(snapshot)).toEqual(toPolicy(fromRow(row!)));
      expect(snapshot).toMatchObject({ authority: "RESTRICTION", updatedBy: null });
    }
    expect(await db.select().from(policyVersions).where(eq(policyVersions.policyId, id(11)))).toEqual([]);
  });
});
