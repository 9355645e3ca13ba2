import fs from "node:fs";
import path from "node:path";
import { asc, eq, sql, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditAction } from "../../src/audit/audit-actions";
import { canonicalAuditContent } from "../../src/audit/audit-chain";
import { verifyAuditChain } from "../../src/audit/audit-query";
import { AUDIT_CHAIN_LOCK_KEY, auditLines, type AuditEntry } from "../../src/audit/audit-recorder";
import { auditEvents } from "../../src/db/schema";
import { PROJECT_ROOT } from "../../src/paths";
import type { RequestMeta } from "../../src/request-meta";
import { LogoutDocument, RefreshDocument } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const OPERATIONS = fs.readFileSync(path.join(PROJECT_ROOT, "tests/operations/audit.graphql"), "utf8");

interface Verification {
  ok: boolean;
  checked: number;
  firstBroken: { seq: string; id: string; reason: string } | null;
  lastGoodSeq: string | null;
  lastGoodHash: string | null;
}

let server: TestServer;
let adminToken: string;
beforeAll(async () => {
  server = await startTestServer();
  adminToken = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
});
afterAll(() => server.close());

const db = () => server.app.database.db;
const allRows = () => db().select().from(auditEvents).orderBy(asc(auditEvents.seq));

async function verifyOverGraphQL(variables: { fromSeq?: string; toSeq?: string } = {}, token = adminToken) {
  const response = await server.client.raw<{ verifyAuditChain: Verification }>(
    JSON.stringify({ query: OPERATIONS, operationName: "VerifyAuditChain", variables }),
    { token },
  );
  return response;
}

async function verified(variables: { fromSeq?: string; toSeq?: string } = {}): Promise<Verification> {
  const response = await verifyOverGraphQL(variables);
  expect(response.errors).toBeUndefined();
  return (response.data as { verifyAuditChain: Verification }).verifyAuditChain;
}

/**
 * Changes the table behind the append-only trigger's back, as someone with the database's
 * files or superuser rights could: the trigger is off only inside this one transaction.
 */
async function tamper(statement: SQL): Promise<void> {
  await db().transaction(async (tx) => {
    await tx.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
    await tx.execute(statement);
    await tx.execute(sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
  });
}

describe("the audit hash chain", () => {
  it("links every event written by real flows to the one before it", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const again = await loginUser(client, user.user.email);
    const refreshed = await client.ok(RefreshDocument, { refreshToken: again.refreshToken });
    await client.ok(LogoutDocument, {}, { token: refreshed.refresh.accessToken });
    await client.request(RefreshDocument, { refreshToken: again.refreshToken }); // reuse: a failure row

    const rows = await allRows();
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(rows[0]?.prevHash).toBeNull();
    for (const [index, row] of rows.entries()) {
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      if (index > 0) expect(row.prevHash).toBe(rows[index - 1]?.hash);
    }

    const result = await verified();
    expect(result).toMatchObject({ ok: true, checked: rows.length, firstBroken: null });
    expect(result.lastGoodSeq).toBe(rows.at(-1)?.seq.toString());
    expect(result.lastGoodHash).toBe(rows.at(-1)?.hash);
  });

  it("walks in batches without changing the answer", async () => {
    const rows = await allRows();
    const small = await verifyAuditChain(db(), {}, 2);
    expect(small).toMatchObject({ ok: true, checked: rows.length, firstBroken: null });
  });

  it("stores exactly the content each line's hash covers, and refuses a line that is not a canonical row", async () => {
    const before = await allRows();
    const details = { note: "ünïcode ✓ \"quoted\" \\ back\nslash", amount: 12.5, nested: { z: [1, null, { b: true, a: "x" }], a: null } };
    const entries: { meta: RequestMeta; entry: AuditEntry }[] = [
      { meta: { requestId: "req-1", ip: "203.0.113.9", userAgent: "agent/1.0" }, entry: { actor: { type: "user", id: "u-1" }, action: AuditAction.LOGIN_FAILED, outcome: "failure", target: { type: "user", id: "u-1" }, details } },
      { meta: { requestId: "req-2", ip: null, userAgent: null }, entry: { actor: { type: "system" }, action: AuditAction.BOOTSTRAP_ADMIN_CREATED, outcome: "success" } },
    ];
    const lines = auditLines(entries);
    expect(lines.split("\n")).toHaveLength(2);
    await db().execute(sql`SELECT audit_append_lines(${AUDIT_CHAIN_LOCK_KEY}, ${lines}::text)`);

    const added = (await allRows()).slice(before.length);
    expect(added.map((row) => [row.actorType, row.actorId, row.action, row.outcome, row.targetType, row.targetId, row.ip, row.userAgent, row.requestId])).toEqual([
      ["user", "u-1", AuditAction.LOGIN_FAILED, "failure", "user", "u-1", "203.0.113.9", "agent/1.0", "req-1"],
      ["system", null, AuditAction.BOOTSTRAP_ADMIN_CREATED, "success", null, null, null, null, "req-2"],
    ]);
    expect(added[0]?.details).toEqual(details);
    expect(added[0]?.prevHash).toBe(before.at(-1)?.hash);
    // What the verifier recomputes from the stored columns is the line that was hashed.
    expect(added.map((row) => canonicalAuditContent(row))).toEqual(lines.split("\n"));
    expect(await verified()).toMatchObject({ ok: true, checked: before.length + 2, firstBroken: null });

    const refused = ['["audit-v0"]', "{}", "[1,2]", "not json", JSON.stringify(["audit-v1", ...Array(11).fill(null)])];
    for (const line of refused) {
      await expect(db().execute(sql`SELECT audit_append_lines(${AUDIT_CHAIN_LOCK_KEY}, ${line}::text)`)).rejects.toThrow();
    }
    expect(await allRows()).toHaveLength(before.length + 2);
  });

  it("stays one unbroken line under 20 concurrent registrations", async () => {
    const before = (await allRows()).length;
    await Promise.all(Array.from({ length: 20 }, () => registerUser(server.client)));
    const rows = await allRows();
    expect(rows.length).toBeGreaterThanOrEqual(before + 20);
    const prevHashes = rows.map((row) => row.prevHash);
    expect(new Set(prevHashes).size).toBe(prevHashes.length); // no two rows claim the same predecessor
    expect(await verified()).toMatchObject({ ok: true, checked: rows.length, firstBroken: null });
  });

  it("names exactly the row edited behind the trigger's back, and is whole again once it is restored", async () => {
    const rows = await allRows();
    const victim = rows[Math.floor(rows.length / 2)];
    if (!victim) throw new Error("no rows");
    await tamper(sql`UPDATE audit_events SET details = '{"reason":"nothing to see"}'::jsonb WHERE seq = ${victim.seq}`);
    const [changed] = await db().select().from(auditEvents).where(eq(auditEvents.seq, victim.seq));
    expect(changed?.details).toEqual({ reason: "nothing to see" });

    const result = await verified();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toEqual({ seq: victim.seq.toString(), id: victim.id, reason: "HASH_MISMATCH" });
    expect(result.checked).toBe(rows.indexOf(victim) + 1);
    expect(result.lastGoodSeq).toBe(rows[rows.indexOf(victim) - 1]?.seq.toString());

    // A range that ends before the edit still checks out; one that starts after it does too.
    expect(await verified({ toSeq: (victim.seq - 1n).toString() })).toMatchObject({ ok: true });
    expect(await verified({ fromSeq: (victim.seq + 1n).toString() })).toMatchObject({ ok: true });
    expect((await verified({ fromSeq: victim.seq.toString(), toSeq: victim.seq.toString() })).firstBroken?.reason).toBe(
      "HASH_MISMATCH",
    );

    await tamper(sql`UPDATE audit_events SET details = ${JSON.stringify(victim.details)}::jsonb WHERE seq = ${victim.seq}`);
    expect(await verified()).toMatchObject({ ok: true, firstBroken: null });
  });

  it("notices a row removed from the middle at the row after it", async () => {
    const rows = await allRows();
    const index = Math.floor(rows.length / 3);
    const removed = rows[index];
    const next = rows[index + 1];
    if (!removed || !next) throw new Error("not enough rows");
    await tamper(sql`DELETE FROM audit_events WHERE seq = ${removed.seq}`);

    const result = await verified();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toEqual({ seq: next.seq.toString(), id: next.id, reason: "PREV_MISMATCH" });
    expect(result.checked).toBe(index + 1);

    // Put it back exactly (same seq), and the chain is whole again.
    await db().transaction(async (tx) => {
      await tx.execute(sql`
        INSERT INTO audit_events (seq, id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome,
                                  ip, user_agent, request_id, details, prev_hash, hash)
        OVERRIDING SYSTEM VALUE VALUES (${removed.seq}, ${removed.id}, ${removed.occurredAt.toISOString()}, ${removed.actorType},
          ${removed.actorId}, ${removed.action}, ${removed.targetType}, ${removed.targetId}, ${removed.outcome}, ${removed.ip},
          ${removed.userAgent}, ${removed.requestId}, ${JSON.stringify(removed.details)}::jsonb, ${removed.prevHash}, ${removed.hash})`);
    });
    expect(await verified()).toMatchObject({ ok: true, checked: rows.length });
  });

  it("refuses a forked chain in the database itself", async () => {
    const [last] = await db().select().from(auditEvents).orderBy(sql`seq desc`).limit(1);
    const error = await db()
      .insert(auditEvents)
      .values({ actorType: "system", action: "system.fork", outcome: "success", prevHash: last?.prevHash, hash: "f".repeat(64) })
      .then(
        () => undefined,
        (failure: Error & { cause?: Error }) => failure,
      );
    expect(error?.cause?.message ?? error?.message).toMatch(/audit_events_prev_hash_key|duplicate key/);
  });

  it("reports a row that was never chained", async () => {
    await db().insert(auditEvents).values({ actorType: "system", action: "system.legacy", outcome: "success" });
    const [legacy] = await db().select().from(auditEvents).where(eq(auditEvents.action, "system.legacy"));
    const result = await verified();
    expect(result.firstBroken).toEqual({ seq: legacy?.seq.toString(), id: legacy?.id, reason: "UNCHAINED" });
  });

  it("is for audit readers only, and checks its range", async () => {
    const user = await registerUser(server.client);
    const refused = await verifyOverGraphQL({}, user.accessToken);
    expect(errorCode(refused)).toBe("FORBIDDEN");
    const anonymous = await server.client.raw(JSON.stringify({ query: OPERATIONS, operationName: "VerifyAuditChain" }));
    expect(errorCode(anonymous)).toBe("UNAUTHENTICATED");
    for (const [variables, field] of [
      [{ fromSeq: "5", toSeq: "4" }, "fromSeq"],
      [{ fromSeq: "-1" }, "fromSeq"],
      [{ toSeq: "ten" }, "toSeq"],
    ] as const) {
      const response = await verifyOverGraphQL(variables);
      expect(errorCode(response)).toBe("BAD_USER_INPUT");
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
    }
  });
});
