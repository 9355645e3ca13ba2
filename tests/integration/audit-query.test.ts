import fs from "node:fs";
import path from "node:path";
import { asc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, userRoles } from "../../src/db/schema";
import { PROJECT_ROOT } from "../../src/paths";
import { LoginDocument } from "../generated/graphql";
import { loginUser, registerUser, uniqueEmail } from "../support/fixtures";
import { matchesAuditFilter, type AuditFilterVariables } from "../support/audit-filter-oracle";
import { errorCode, type GraphQLResponse } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const OPERATIONS = fs.readFileSync(path.join(PROJECT_ROOT, "tests/operations/audit.graphql"), "utf8");

interface AuditNode {
  id: string;
  seq: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  hash: string | null;
  prevHash: string | null;
}
interface AuditPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: AuditNode }[];
}
type Filter = AuditFilterVariables;
type Row = typeof auditEvents.$inferSelect;

let server: TestServer;
let adminToken: string;
let officerToken: string;
let userToken: string;
/** A user with 60 events of its own: registration and 59 sign-ins. */
let busy: { id: string; email: string };

beforeAll(async () => {
  server = await startTestServer();
  const { client } = server;
  adminToken = (await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;

  const officer = await registerUser(client);
  await server.app.database.db.insert(userRoles).values({ userId: officer.user.id, roleName: "COMPLIANCE_OFFICER" });
  officerToken = (await loginUser(client, officer.user.email)).accessToken;

  const user = await registerUser(client);
  userToken = user.accessToken;
  await client.request(LoginDocument, { input: { identifier: user.user.email, password: "not the password" } });
  await client.request(LoginDocument, { input: { identifier: uniqueEmail("nobody"), password: "not the password" } });

  const registered = await registerUser(client);
  busy = { id: registered.user.id, email: registered.user.email };
  for (let batch = 0; batch < 59; batch += 10) {
    const size = Math.min(10, 59 - batch);
    await Promise.all(Array.from({ length: size }, () => loginUser(client, busy.email)));
  }
});
afterAll(() => server.close());

async function auditRequest(variables: { filter?: Filter; first?: number; after?: string }, token?: string) {
  return server.client.raw<{ audit: AuditPage }>(JSON.stringify({ query: OPERATIONS, operationName: "AuditEvents", variables }), {
    token,
  });
}

async function audit(variables: { filter?: Filter; first?: number; after?: string }, token = adminToken): Promise<AuditPage> {
  const response = await auditRequest(variables, token);
  expect(response.errors).toBeUndefined();
  return (response.data as { audit: AuditPage }).audit;
}

/** Every row, newest first, as the database holds them. */
async function rowsNewestFirst(): Promise<Row[]> {
  const rows = await server.app.database.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
  return rows.reverse();
}

const matches = matchesAuditFilter;

describe("the audit query", () => {
  it("returns events newest first with every field", async () => {
    const rows = await rowsNewestFirst();
    const page = await audit({ first: 5 });
    expect(page.totalCount).toBe(rows.length);
    expect(page.edges.map((edge) => edge.node.seq)).toEqual(rows.slice(0, 5).map((row) => row.seq.toString()));
    const [newest] = rows;
    expect(page.edges[0]?.node).toEqual({
      id: newest?.id,
      seq: newest?.seq.toString(),
      occurredAt: newest?.occurredAt.toISOString(),
      actorType: newest?.actorType.toUpperCase(),
      actorId: newest?.actorId,
      action: newest?.action,
      targetType: newest?.targetType,
      targetId: newest?.targetId,
      outcome: newest?.outcome.toUpperCase(),
      ip: newest?.ip,
      userAgent: newest?.userAgent,
      requestId: newest?.requestId,
      details: newest?.details,
      hash: newest?.hash,
      prevHash: newest?.prevHash,
    });
  });

  it("narrows by each filter, alone and combined", async () => {
    const rows = await rowsNewestFirst();
    const busyRows = rows.filter((row) => row.actorId === busy.id);
    const middle = busyRows[30] as Row;
    const later = busyRows[10] as Row;
    const filters: Filter[] = [
      { actorId: busy.id },
      { actorType: "ANONYMOUS" },
      { actorType: "SYSTEM" },
      { action: "auth.register" },
      { action: "auth.login.*" },
      { action: "auth.*" },
      { targetType: "session" },
      { targetId: busy.id },
      { outcome: "FAILURE" },
      { outcome: "SUCCESS", action: "auth.login.*", actorId: busy.id },
      { actorId: busy.id, from: middle.occurredAt.toISOString() },
      { actorId: busy.id, to: middle.occurredAt.toISOString() },
      { actorId: busy.id, from: middle.occurredAt.toISOString(), to: later.occurredAt.toISOString() },
      { action: "no.such.action" },
    ];
    for (const filter of filters) {
      const expected = rows.filter((row) => matches(row, filter));
      const page = await audit({ filter, first: 200 });
      const label = JSON.stringify(filter);
      if (filter.action !== "no.such.action") expect(expected.length, label).toBeGreaterThan(0);
      expect(page.totalCount, label).toBe(expected.length);
      expect(page.edges.map((edge) => edge.node.id), label).toEqual(expected.slice(0, 200).map((row) => row.id));
      expect(page.totalCount, label).toBeLessThan(rows.length);
    }
    expect((await audit({ filter: { actorId: busy.id } })).totalCount).toBe(60);
    expect((await audit({ filter: { outcome: "FAILURE" } })).totalCount).toBeGreaterThanOrEqual(2);
  });

  it("pages through 60 events 25 at a time, completely and without repeats, while new events arrive", async () => {
    const filter = { actorId: busy.id };
    const expected = (await rowsNewestFirst()).filter((row) => matches(row, filter)).map((row) => row.id);
    expect(expected).toHaveLength(60);

    const seen: string[] = [];
    const pages: AuditPage[] = [];
    let after: string | undefined;
    do {
      const page = await audit({ filter, first: 25, after });
      pages.push(page);
      seen.push(...page.edges.map((edge) => edge.node.id));
      after = page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? undefined) : undefined;
      if (pages.length === 1) await loginUser(server.client, busy.email); // a newer event mid-way
    } while (after);

    expect(pages.map((page) => page.edges.length)).toEqual([25, 25, 10]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages[0]?.totalCount).toBe(60);
    expect(pages[1]?.totalCount).toBe(61);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(60);
    for (const page of pages) expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
  });

  it("answers an empty page for first: 0, with the count", async () => {
    const page = await audit({ filter: { actorId: busy.id }, first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.totalCount).toBeGreaterThanOrEqual(60);
  });

  it("refuses bad input, naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ after: "not-a-cursor" }, "after"],
      [{ after: Buffer.from("12abc").toString("base64url") }, "after"],
      [{ first: 201 }, "first"],
      [{ first: -1 }, "first"],
      [{ filter: { from: "2025-02-01T00:00:00Z", to: "2025-01-01T00:00:00Z" } }, "filter.from"],
      [{ filter: { action: "auth.*.failed" } }, "filter.action"],
      [{ filter: { targetId: "" } }, "filter.targetId"],
    ];
    for (const [variables, field] of cases) {
      const response = await auditRequest(variables, adminToken);
      expect(errorCode(response), JSON.stringify(variables)).toBe("BAD_USER_INPUT");
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
    }
  });

  it("is open to ADMIN and COMPLIANCE_OFFICER, forbidden to a USER, and asks an anonymous caller to sign in", async () => {
    const forAdmin = await audit({ first: 3 }, adminToken);
    const forOfficer = await audit({ first: 3 }, officerToken);
    expect(forOfficer.edges.map((edge) => edge.node.id)).toEqual(forAdmin.edges.map((edge) => edge.node.id));
    const forUser: GraphQLResponse<unknown> = await auditRequest({ first: 3 }, userToken);
    expect(errorCode(forUser)).toBe("FORBIDDEN");
    expect(forUser.data).toBeNull();
    expect(errorCode(await auditRequest({ first: 3 }))).toBe("UNAUTHENTICATED");
  });
});
