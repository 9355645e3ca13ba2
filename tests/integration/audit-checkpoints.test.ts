import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditCheckpoints, auditEvents } from "../../src/db/schema";
import { VerifyAuditChainDocument, type VerifyAuditChainQueryVariables } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Incremental verification: a walk from a trusted start (the first event, an anchor hash,
 * the latest checkpoint) that checks out records a checkpoint, and `fromCheckpoint` reads
 * only what was appended after it. The full walk stays available and still reads everything.
 */
let server: TestServer;
let adminToken: string;

beforeAll(async () => {
  server = await startTestServer();
  adminToken = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
});
afterAll(() => server.close());

const db = () => server.app.database.db;
const allRows = () => db().select().from(auditEvents).orderBy(asc(auditEvents.seq));
const checkpoints = () => db().select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq));
const verify = (variables: VerifyAuditChainQueryVariables) => server.client.request(VerifyAuditChainDocument, variables, { token: adminToken });
const verified = async (variables: VerifyAuditChainQueryVariables = {}) => (await server.client.ok(VerifyAuditChainDocument, variables, { token: adminToken })).verifyAuditChain;

/** An edit behind the append-only trigger's back, as someone with superuser rights could make. */
async function tamper(seq: bigint, details: unknown): Promise<void> {
  await db().transaction(async (tx) => {
    await tx.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
    await tx.execute(sql`UPDATE audit_events SET details = ${JSON.stringify(details)}::jsonb WHERE seq = ${seq}`);
    await tx.execute(sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
  });
}

describe("audit chain checkpoints", () => {
  it("records where a full walk ended, and a walk from the checkpoint reads only the events appended since", async () => {
    const first = await verified();
    const head = (await allRows()).at(-1)!;
    expect(first).toMatchObject({ ok: true, continuedAfterSeq: null, lastGoodSeq: head.seq.toString() });
    expect((await checkpoints()).map((row) => [row.seq, row.hash])).toEqual([[head.seq, head.hash]]);

    await registerUser(server.client);
    await registerUser(server.client);
    const appended = (await allRows()).filter((row) => row.seq > head.seq);
    expect(appended.length).toBeGreaterThan(0);
    const incremental = await verified({ fromCheckpoint: true });
    expect(incremental).toMatchObject({ ok: true, checked: appended.length, continuedAfterSeq: head.seq.toString(), lastGoodSeq: appended.at(-1)!.seq.toString() });
    expect((await checkpoints()).at(-1)?.seq).toBe(appended.at(-1)!.seq);
  });

  it("finds an edit after the latest checkpoint, and records no checkpoint past a broken link", async () => {
    await registerUser(server.client);
    const latest = (await checkpoints()).at(-1)!;
    const victim = (await allRows()).find((row) => row.seq > latest.seq)!;
    await tamper(victim.seq, { reason: "nothing to see" });
    try {
      const result = await verified({ fromCheckpoint: true });
      expect(result.ok).toBe(false);
      expect(result.firstBroken).toMatchObject({ seq: victim.seq.toString(), reason: "HASH_MISMATCH" });
      expect((await checkpoints()).at(-1)?.seq).toBe(latest.seq);
    } finally {
      await tamper(victim.seq, victim.details);
    }
    expect(await verified({ fromCheckpoint: true })).toMatchObject({ ok: true });
  });

  it("leaves what a checkpoint vouches for to the full walk, which still reads every event", async () => {
    const rows = await allRows();
    const victim = rows[1]!;
    await tamper(victim.seq, { reason: "rewritten history" });
    try {
      expect(await verified({ fromCheckpoint: true })).toMatchObject({ ok: true, checked: 0 });
      expect((await verified()).firstBroken).toMatchObject({ seq: victim.seq.toString(), reason: "HASH_MISMATCH" });
    } finally {
      await tamper(victim.seq, victim.details);
    }
  });

  it("continues from an anchor hash the caller kept, and refuses a walk that does not continue from it", async () => {
    const rows = await allRows();
    const before = rows[rows.length - 3]!;
    const from = rows[rows.length - 2]!;
    const anchored = await verified({ fromSeq: from.seq.toString(), afterHash: before.hash });
    expect(anchored).toMatchObject({ ok: true, checked: 2, continuedAfterSeq: before.seq.toString() });
    const wrong = await verified({ fromSeq: from.seq.toString(), afterHash: "0".repeat(64) });
    expect(wrong.firstBroken).toMatchObject({ seq: from.seq.toString(), reason: "PREV_MISMATCH" });
    // Without an anchor the range vouches for nothing before it: no checkpoint.
    await registerUser(server.client);
    const count = (await checkpoints()).length;
    const tail = (await allRows()).at(-1)!;
    expect(await verified({ fromSeq: tail.seq.toString() })).toMatchObject({ ok: true, continuedAfterSeq: null });
    expect(await checkpoints()).toHaveLength(count);
  });

  it("keeps checkpoints append-only", async () => {
    const [checkpoint] = await checkpoints();
    const error = await db()
      .update(auditCheckpoints)
      .set({ hash: "f".repeat(64) })
      .where(eq(auditCheckpoints.seq, checkpoint!.seq))
      .then(
        () => undefined,
        (failure: Error & { cause?: Error }) => failure,
      );
    expect(error?.cause?.message ?? error?.message).toMatch(/append-only/);
  });

  it("checks its arguments", async () => {
    for (const [variables, field] of [
      [{ afterHash: "a".repeat(64) }, "afterHash"],
      [{ fromSeq: "3", afterHash: "not-a-hash" }, "afterHash"],
      [{ fromSeq: "3", fromCheckpoint: true }, "fromCheckpoint"],
    ] as const) {
      const response = await verify(variables);
      expect(errorCode(response)).toBe("BAD_USER_INPUT");
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
    }
  });
});
