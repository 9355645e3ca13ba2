import { and, asc, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, policies, policyVersions } from "../../src/db/schema";
import { DEFAULT_POLICY_ID } from "../../src/policies/policy-codec";
import {
  CreatePolicyDocument,
  DeletePolicyDocument,
  PoliciesDocument,
  PolicyByIdDocument,
  PolicyVersionDocument,
  PolicyVersionsDocument,
  SetPolicyEnabledDocument,
  SetPolicyModeDocument,
  UpdatePolicyDocument,
  type PolicyInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { as, expectRefused } from "../support/assertions";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Policy storage through the real endpoint, as an administrator (policies:write): the seed,
 * validation, versions, optimistic concurrency, the audit trail and Money. Who may do what
 * is policies-access.test.ts.
 */
let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer();
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

const NO_SUCH_ID = "00000000-0000-4000-8000-0000000000ff";


async function createAgent(owner: { accessToken: string }): Promise<string> {
  const data = await server.client.ok<{ createAgent: { id: string } }, unknown>(
    `mutation { createAgent(input: { name: "policy bot" }) { id } }`,
    {},
    as(owner),
  );
  return data.createAgent.id;
}

async function create(input: PolicyInput) {
  return (await server.client.ok(CreatePolicyDocument, { input }, as(admin))).createPolicy;
}

const policyCount = async () => (await server.app.database.db.select({ id: policies.id }).from(policies)).length;
const versionCount = async () => (await server.app.database.db.select({ id: policyVersions.policyId }).from(policyVersions)).length;
const policyAuditCount = async () =>
  (await server.app.database.db.select({ seq: auditEvents.seq }).from(auditEvents).where(like(auditEvents.action, "policy.%"))).length;

async function auditOf(policyId: string) {
  return server.app.database.db
    .select()
    .from(auditEvents)
    .where(and(like(auditEvents.action, "policy.%"), eq(auditEvents.targetId, policyId)))
    .orderBy(asc(auditEvents.seq));
}

describe("the seeded default policy", () => {
  it("is one enabled GLOBAL policy with no rules (so: default deny) and its version 1", async () => {
    const { policies: globals } = await server.client.ok(PoliciesDocument, { scope: "GLOBAL" }, as(admin));
    const seeded = globals.filter((policy) => policy.builtIn);
    expect(seeded).toEqual([
      expect.objectContaining({
        id: DEFAULT_POLICY_ID,
        name: "Default",
        scope: "GLOBAL",
        scopeId: null,
        enabled: true,
        mode: "ENFORCE",
        version: 1,
        rules: [],
        caps: [],
        createdBy: null,
        deletedAt: null,
      }),
    ]);
    const { policyVersions: versions } = await server.client.ok(PolicyVersionsDocument, { id: DEFAULT_POLICY_ID }, as(admin));
    expect(versions).toEqual([expect.objectContaining({ version: 1, change: "CREATED", changedBy: null })]);
    expect(versions[0]?.snapshot).toEqual(seeded[0]);
  });

  it("cannot be deleted, but can be edited", async () => {
    const refused = await server.client.request(DeletePolicyDocument, { id: DEFAULT_POLICY_ID }, as(admin));
    expect(expectRefused(refused, "CONFLICT", "id")).toMatch(/default policy cannot be deleted/);
    const input: PolicyInput = { name: "Default", scope: "GLOBAL", rules: [{ pattern: "system.health", effect: "ALLOW" }] };
    const edited = await server.client.ok(UpdatePolicyDocument, { id: DEFAULT_POLICY_ID, input, expectedVersion: 1 }, as(admin));
    expect(edited.updatePolicy).toMatchObject({ version: 2, builtIn: true, deletedAt: null, rules: [{ pattern: "system.health" }] });
    const back = await server.client.ok(UpdatePolicyDocument, { id: DEFAULT_POLICY_ID, input: { ...input, rules: [] } }, as(admin));
    expect(back.updatePolicy).toMatchObject({ version: 3, rules: [] });
  });
});

describe("validation", () => {
  it("refuses each invalid policy naming the field, and writes nothing", async () => {
    const owner = await registerUser(server.client);
    const agentId = await createAgent(owner);
    const before = { policies: await policyCount(), versions: await versionCount(), audit: await policyAuditCount() };
    const many = <T>(count: number, make: (i: number) => T) => Array.from({ length: count }, (_, i) => make(i));
    const cases: [string, PolicyInput, string][] = [
      ["empty name", { name: " ", scope: "GLOBAL" }, "name"],
      ["long name", { name: "n".repeat(101), scope: "GLOBAL" }, "name"],
      ["scopeId on GLOBAL", { name: "x", scope: "GLOBAL", scopeId: "ADMIN" }, "scopeId"],
      ["no scopeId on ROLE", { name: "x", scope: "ROLE" }, "scopeId"],
      ["unknown role", { name: "x", scope: "ROLE", scopeId: "NO_SUCH_ROLE" }, "scopeId"],
      ["unknown user", { name: "x", scope: "USER", scopeId: NO_SUCH_ID }, "scopeId"],
      ["malformed user id", { name: "x", scope: "USER", scopeId: "bob" }, "scopeId"],
      ["unknown agent", { name: "x", scope: "AGENT", scopeId: NO_SUCH_ID }, "scopeId"],
      ["bad pattern", { name: "x", scope: "GLOBAL", rules: [{ pattern: "llm.*", effect: "ALLOW" }, { pattern: "llm*", effect: "DENY" }] }, "rules[1].pattern"],
      ["pattern with a star inside", { name: "x", scope: "GLOBAL", rules: [{ pattern: "a.*.b", effect: "DENY" }] }, "rules[0].pattern"],
      ["repeated pattern", { name: "x", scope: "GLOBAL", rules: [{ pattern: "a", effect: "DENY" }, { pattern: "a", effect: "ALLOW" }] }, "rules[1].pattern"],
      ["negative max cost", { name: "x", scope: "GLOBAL", rules: [{ pattern: "a", effect: "ALLOW", maxCostPerAction: "-1" }] }, "rules[0].maxCostPerAction"],
      ["negative limit", { name: "x", scope: "GLOBAL", caps: [{ per: "AGENT", window: "DAY", limit: "-5" }] }, "caps[0].limit"],
      ["limit over 2^63-1", { name: "x", scope: "GLOBAL", caps: [{ per: "AGENT", window: "DAY", limit: "9223372036854775808" }] }, "caps[0].limit"],
      ["GLOBAL cap at AGENT scope", { name: "x", scope: "AGENT", scopeId: agentId, caps: [{ per: "GLOBAL", window: "DAY", limit: "5" }] }, "caps[0].per"],
      ["GLOBAL cap at USER scope", { name: "x", scope: "USER", scopeId: owner.user.id, caps: [{ per: "GLOBAL", window: "HOUR", limit: "5" }] }, "caps[0].per"],
      ["repeated (per, window)", { name: "x", scope: "GLOBAL", caps: [{ per: "OWNER", window: "DAY", limit: "5" }, { per: "OWNER", window: "DAY", limit: "6" }] }, "caps[1].window"],
      ["201 rules", { name: "x", scope: "GLOBAL", rules: many(201, (i) => ({ pattern: `a${i}`, effect: "DENY" as const })) }, "rules"],
      ["51 caps", { name: "x", scope: "GLOBAL", caps: many(51, () => ({ per: "AGENT" as const, window: "DAY" as const, limit: "1" })) }, "caps"],
    ];
    for (const [label, input, field] of cases) {
      const response = await server.client.request(CreatePolicyDocument, { input }, as(admin));
      expect(response.errors?.[0]?.extensions, label).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    // The negative amount came in as a JSON integer, too.
    const integer = await server.client.request(
      CreatePolicyDocument,
      { input: { name: "x", scope: "GLOBAL", caps: [{ per: "AGENT", window: "DAY", limit: -5 as unknown as string }] } },
      as(admin),
    );
    expectRefused(integer, "BAD_USER_INPUT", "caps[0].limit");
    // An unknown window or a malformed amount never reaches the service: the GraphQL types
    // refuse it, naming the path in the message.
    const unknownWindow = await server.client.request(
      CreatePolicyDocument,
      { input: { name: "x", scope: "GLOBAL", caps: [{ per: "AGENT", window: "YEAR" as "DAY", limit: "5" }] } },
      as(admin),
    );
    expect(expectRefused(unknownWindow, "BAD_USER_INPUT")).toContain('"input.caps[0].window"');
    const fraction = await server.client.request(
      CreatePolicyDocument,
      { input: { name: "x", scope: "GLOBAL", caps: [{ per: "AGENT", window: "DAY", limit: "12.5" }] } },
      as(admin),
    );
    expect(expectRefused(fraction, "BAD_USER_INPUT")).toMatch(/"input\.caps\[0\]\.limit"; Money must be an integer/);

    expect({ policies: await policyCount(), versions: await versionCount(), audit: await policyAuditCount() }).toEqual(before);
  });

  it("takes Money as a JSON integer or a string of digits and returns strings, exactly", async () => {
    const created = await create({
      name: "Money",
      scope: "GLOBAL",
      enabled: false,
      rules: [{ pattern: "llm.*", effect: "ALLOW", maxCostPerAction: 2_500_000 as unknown as string }],
      caps: [
        { per: "GLOBAL", window: "TOTAL", limit: "9223372036854775807" },
        { per: "OWNER", window: "MONTH", limit: "0" },
      ],
    });
    expect(created.rules[0]?.maxCostPerAction).toBe("2500000");
    expect(created.caps.map((cap) => cap.limit)).toEqual(["9223372036854775807", "0"]);
    const [row] = await server.app.database.db.select().from(policies).where(eq(policies.id, created.id));
    expect(row?.caps[0]?.limit).toBe("9223372036854775807");
  });
});

describe("versions", () => {
  it("keeps every version readable with its snapshot; rule and cap ids survive while their pattern or counter does", async () => {
    const v1 = await create({
      name: "Research limits",
      scope: "GLOBAL",
      enabled: false,
      rules: [
        { pattern: "llm.*", effect: "ALLOW", maxCostPerAction: "1000000" },
        { pattern: "email.send", effect: "REQUIRE_APPROVAL" },
      ],
      caps: [{ per: "AGENT", window: "DAY", limit: "5000000" }],
    });
    expect(v1.version).toBe(1);
    const v2 = (
      await server.client.ok(
        UpdatePolicyDocument,
        {
          id: v1.id,
          input: {
            name: "Research limits",
            scope: "GLOBAL",
            rules: [
              { pattern: "llm.*", effect: "ALLOW", maxCostPerAction: "2000000" },
              { pattern: "payments.*", effect: "DENY", locked: true },
            ],
          },
        },
        as(admin),
      )
    ).updatePolicy;
    expect(v2.version).toBe(2);
    expect(v2.rules[0]).toMatchObject({ id: v1.rules[0]?.id, maxCostPerAction: "2000000" });
    expect(v2.rules[1]?.id).not.toBe(v1.rules[1]?.id);
    expect(v2.caps).toEqual(v1.caps); // absent caps stay as they were
    expect(v2.enabled).toBe(false);

    const v3 = (
      await server.client.ok(
        UpdatePolicyDocument,
        { id: v1.id, input: { name: "Research limits v3", scope: "GLOBAL", caps: [{ per: "AGENT", window: "DAY", limit: "7000000" }, { per: "AGENT", window: "HOUR", limit: "1" }] } },
        as(admin),
      )
    ).updatePolicy;
    expect(v3).toMatchObject({ version: 3, name: "Research limits v3", rules: v2.rules });
    expect(v3.caps[0]).toEqual({ ...v1.caps[0], limit: "7000000" });

    const { policyVersions: versions } = await server.client.ok(PolicyVersionsDocument, { id: v1.id }, as(admin));
    expect(versions.map((version) => [version.version, version.change, version.changedBy])).toEqual([
      [1, "CREATED", admin.user.id],
      [2, "UPDATED", admin.user.id],
      [3, "UPDATED", admin.user.id],
    ]);
    expect(versions.map((version) => version.snapshot)).toEqual([v1, v2, v3]);
    const second = await server.client.ok(PolicyVersionDocument, { id: v1.id, version: 2 }, as(admin));
    expect(second.policyVersion).toEqual({ version: 2, change: "UPDATED", snapshot: v2 });
    expect((await server.client.ok(PolicyVersionDocument, { id: v1.id, version: 9 }, as(admin))).policyVersion).toBeNull();

    // Saving the same content again changes nothing: no version, no audit row.
    const same = await server.client.ok(UpdatePolicyDocument, { id: v1.id, input: { name: "Research limits v3", scope: "GLOBAL" } }, as(admin));
    expect(same.updatePolicy).toEqual(v3);
    expect(await auditOf(v1.id)).toHaveLength(3);

    const moved = await server.client.request(UpdatePolicyDocument, { id: v1.id, input: { name: "x", scope: "ROLE", scopeId: "ADMIN" } }, as(admin));
    expectRefused(moved, "BAD_USER_INPUT", "scope");
  });

  it("refuses a stale expectedVersion (CONFLICT) and writes nothing", async () => {
    const created = await create({ name: "Contended", scope: "GLOBAL", enabled: false });
    const input: PolicyInput = { name: "Contended", scope: "GLOBAL", rules: [{ pattern: "a.b", effect: "DENY" }] };
    await server.client.ok(UpdatePolicyDocument, { id: created.id, input, expectedVersion: 1 }, as(admin));
    const stale = await server.client.request(UpdatePolicyDocument, { id: created.id, input: { ...input, name: "Lost update" }, expectedVersion: 1 }, as(admin));
    expect(expectRefused(stale, "CONFLICT", "expectedVersion")).toMatch(/at version 2, not 1/);
    expectRefused(await server.client.request(SetPolicyEnabledDocument, { id: created.id, enabled: true, expectedVersion: 1 }, as(admin)), "CONFLICT", "expectedVersion");
    expectRefused(await server.client.request(DeletePolicyDocument, { id: created.id, expectedVersion: 3 }, as(admin)), "CONFLICT", "expectedVersion");
    const current = (await server.client.ok(PolicyByIdDocument, { id: created.id }, as(admin))).policy;
    expect(current).toMatchObject({ version: 2, name: "Contended", enabled: false });
    expect(await auditOf(created.id)).toHaveLength(2);

    // Two writers racing on one version: exactly one wins.
    const race = await Promise.all(
      ["first", "second"].map((name) =>
        server.client.request(UpdatePolicyDocument, { id: created.id, input: { ...input, name }, expectedVersion: 2 }, as(admin)),
      ),
    );
    expect(race.filter((response) => !response.errors).length).toBe(1);
    expect(race.filter((response) => response.errors?.[0]?.extensions?.code === "CONFLICT").length).toBe(1);
  });
});

describe("enable, disable, mode, delete", () => {
  it("each writes a version and an audit row with before and after in the same transaction", async () => {
    const requestId = "policies-audit-0001";
    const options = { ...as(admin), headers: { "x-request-id": requestId } };
    const { createPolicy: created } = await server.client.ok(
      CreatePolicyDocument,
      { input: { name: "Lifecycle", scope: "ROLE", scopeId: "MANAGER", rules: [{ pattern: "email.*", effect: "ALLOW", maxCostPerAction: "3" }] } },
      options,
    );
    const id = created.id;
    await server.client.ok(UpdatePolicyDocument, { id, input: { name: "Lifecycle", scope: "ROLE", scopeId: "MANAGER", caps: [{ per: "OWNER", window: "WEEK", limit: "10" }] } }, options);
    const disabled = await server.client.ok(SetPolicyEnabledDocument, { id, enabled: false }, options);
    expect(disabled.setPolicyEnabled).toMatchObject({ enabled: false, version: 3 });
    const unchanged = await server.client.ok(SetPolicyEnabledDocument, { id, enabled: false }, options);
    expect(unchanged.setPolicyEnabled.version).toBe(3);
    await server.client.ok(SetPolicyEnabledDocument, { id, enabled: true }, options);
    const shadow = await server.client.ok(SetPolicyModeDocument, { id, mode: "SHADOW", expectedVersion: 4 }, options);
    expect(shadow.setPolicyMode).toMatchObject({ mode: "SHADOW", version: 5 });
    const deleted = (await server.client.ok(DeletePolicyDocument, { id }, options)).deletePolicy;
    expect(deleted.version).toBe(6);
    expect(deleted.deletedAt).not.toBeNull();

    // Gone from lists and from writes; still readable by id, with every version.
    const { policies: roles } = await server.client.ok(PoliciesDocument, { scope: "ROLE", scopeId: "MANAGER" }, as(admin));
    expect(roles.map((policy) => policy.id)).not.toContain(id);
    expect((await server.client.ok(PolicyByIdDocument, { id }, as(admin))).policy).toEqual(deleted);
    expectRefused(await server.client.request(SetPolicyEnabledDocument, { id, enabled: false }, as(admin)), "NOT_FOUND");
    expectRefused(await server.client.request(DeletePolicyDocument, { id }, as(admin)), "NOT_FOUND");
    const { policyVersions: versions } = await server.client.ok(PolicyVersionsDocument, { id }, as(admin));
    expect(versions.map((version) => version.change)).toEqual(["CREATED", "UPDATED", "DISABLED", "ENABLED", "MODE_CHANGED", "DELETED"]);
    expect(versions.at(-1)?.snapshot).toEqual(deleted);

    const rows = await auditOf(id);
    expect(rows.map((row) => row.action)).toEqual([
      "policy.created",
      "policy.updated",
      "policy.disabled",
      "policy.enabled",
      "policy.mode_changed",
      "policy.deleted",
    ]);
    for (const [index, row] of rows.entries()) {
      expect(row).toMatchObject({ actorType: "user", actorId: admin.user.id, outcome: "success", requestId, targetType: "policy" });
      expect(row.details).toMatchObject({ policyId: id, version: index + 1, change: versions[index]?.change });
    }
    expect(rows[0]?.details).toMatchObject({ before: null, after: { version: 1, rules: [{ pattern: "email.*", maxCostPerAction: "3" }], caps: [] } });
    expect(rows[1]?.details).toMatchObject({ before: { version: 1, caps: [] }, after: { version: 2, caps: [{ per: "OWNER", limit: "10" }] } });
    expect(rows[4]?.details).toMatchObject({ before: { mode: "ENFORCE" }, after: { mode: "SHADOW" } });
    expect(rows[5]?.details).toMatchObject({ before: { deletedAt: null }, after: { deletedAt: deleted.deletedAt } });
  });

  it("refuses unknown ids and malformed ones", async () => {
    expect((await server.client.ok(PolicyByIdDocument, { id: NO_SUCH_ID }, as(admin))).policy).toBeNull();
    expectRefused(await server.client.request(PolicyByIdDocument, { id: "nope" }, as(admin)), "BAD_USER_INPUT", "id");
    expectRefused(await server.client.request(PolicyVersionsDocument, { id: NO_SUCH_ID }, as(admin)), "NOT_FOUND");
    expectRefused(await server.client.request(SetPolicyModeDocument, { id: NO_SUCH_ID, mode: "SHADOW" }, as(admin)), "NOT_FOUND");
  });

  it("the database refuses to rewrite a version", async () => {
    const created = await create({ name: "History", scope: "GLOBAL", enabled: false });
    const { db } = server.app.database;
    await expect(db.update(policyVersions).set({ changedBy: null }).where(eq(policyVersions.policyId, created.id))).rejects.toThrow();
    await expect(db.delete(policyVersions).where(eq(policyVersions.policyId, created.id))).rejects.toThrow();
    expect(await db.select().from(policyVersions).where(eq(policyVersions.policyId, created.id))).toHaveLength(1);
  });
});
