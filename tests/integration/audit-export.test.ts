import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { and, asc, eq, lte } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkChainedRow } from "../../src/audit/audit-chain";
import { AuditAction } from "../../src/audit/audit-actions";
import { recordAudit } from "../../src/audit/audit-recorder";
import { createAuditService } from "../../src/audit/audit.service";
import type { Principal } from "../../src/auth/principal";
import { auditEvents, userRoles } from "../../src/db/schema";
import { PROJECT_ROOT } from "../../src/paths";
import type { UserRow } from "../../src/users/user.repository";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const OPERATIONS = fs.readFileSync(path.join(PROJECT_ROOT, "tests/operations/audit.graphql"), "utf8");
const FORMULA_AGENT = "=HYPERLINK(\"http://evil.example\",\"open\")";

type Record = { [key: string]: unknown };

let server: TestServer;
let adminToken: string;
let officer: { id: string; token: string };
let user: { id: string; token: string };
/** A user whose registration carried a user agent that a spreadsheet would run. */
let sneaky: { id: string };

beforeAll(async () => {
  server = await startTestServer();
  const { client } = server;
  adminToken = (await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  const registered = await registerUser(client);
  await server.app.database.db.insert(userRoles).values({ userId: registered.user.id, roleName: "COMPLIANCE_OFFICER" });
  officer = { id: registered.user.id, token: (await loginUser(client, registered.user.email)).accessToken };
  const plain = await registerUser(client);
  user = { id: plain.user.id, token: plain.accessToken };
  const odd = await registerUser(client, {}, { headers: { "user-agent": FORMULA_AGENT } });
  sneaky = { id: odd.user.id };
  await loginUser(client, odd.user.email, undefined, { headers: { "user-agent": "plain, with \"quotes\"" } });
  for (let i = 0; i < 5; i += 1) await loginUser(client, plain.user.email);
});
afterAll(() => server.close());

function exportUrl(params: { [key: string]: string }): string {
  return `${server.url}/audit/export?${new URLSearchParams(params).toString()}`;
}

async function download(params: { [key: string]: string }, token?: string): Promise<Response> {
  return fetch(exportUrl(params), { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function queryAll(filter: { [key: string]: string }): Promise<Record[]> {
  const nodes: Record[] = [];
  let after: string | undefined;
  do {
    const response = await server.client.raw<{ audit: { edges: { node: Record }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      JSON.stringify({ query: OPERATIONS, operationName: "AuditEvents", variables: { filter, first: 200, after } }),
      { token: adminToken },
    );
    expect(response.errors).toBeUndefined();
    const page = response.data?.audit;
    nodes.push(...(page?.edges.map((edge) => edge.node) ?? []));
    after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : undefined;
  } while (after);
  return nodes.reverse(); // the query is newest first, the export oldest first
}

const parseNdjson = (text: string): Record[] =>
  text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record);

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF between records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (cell += '"'), (i += 1);
      else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") record.push(cell), (cell = "");
    else if (char === "\r" && text[i + 1] === "\n") {
      record.push(cell);
      records.push(record);
      (record = []), (cell = ""), (i += 1);
    } else cell += char;
  }
  expect(cell).toBe("");
  expect(record).toEqual([]);
  return records;
}

/** CSV cells back to the query's values (the reader undoes only the formula guard). */
function csvToRecords(text: string): Record[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((cells) =>
    Object.fromEntries(
      (header ?? []).map((column, index) => {
        const cell = cells[index] ?? "";
        if (column === "details") return [column, JSON.parse(cell)];
        return [column, cell === "" ? null : cell.replace(/^'(?=[=+\-@\t\r])/, "")];
      }),
    ),
  );
}

describe("audit export over HTTP", () => {
  it("streams NDJSON that holds exactly what the query returns for the same filter", async () => {
    const filters: { [key: string]: string }[] = [{ actorId: user.id }, { action: "auth.login.*", outcome: "SUCCESS" }, { targetType: "session" }];
    for (const filter of filters) {
      const response = await download({ format: "ndjson", ...filter }, officer.token);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-ndjson");
      expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-\d+\.ndjson"$/);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const exported = parseNdjson(await response.text());
      const queried = await queryAll(filter);
      expect(exported.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(exported).toEqual(queried);
    }
  });

  it("streams CSV with the same content, RFC 4180 quoting and formulas defused", async () => {
    const response = await download({ format: "csv", actorId: sneaky.id }, adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-\d+\.csv"$/);
    const text = await response.text();
    expect(text.startsWith("seq,id,occurredAt,actorType,actorId,action,")).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""open"")"`);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    const exported = csvToRecords(text);
    expect(exported.map((record) => record.userAgent)).toContain(FORMULA_AGENT);
    expect(exported).toEqual(await queryAll({ actorId: sneaky.id }));
  });

  it("exports the whole trail so that it verifies outside the server", async () => {
    const exported = parseNdjson(await (await download({}, officer.token)).text());
    expect(exported.length).toBeGreaterThan(10);
    let expected: string | null = null;
    for (const record of exported) {
      const row = {
        ...(record as never as Parameters<typeof checkChainedRow>[1]),
        seq: BigInt(record.seq as string),
        occurredAt: new Date(record.occurredAt as string),
        actorType: (record.actorType as string).toLowerCase(),
        outcome: (record.outcome as string).toLowerCase(),
      };
      expect(checkChainedRow(expected, row), String(record.seq)).toBeNull();
      expected = row.hash;
    }
  });

  it("records the export in the trail before sending, with its filter, and covers rows up to that point", async () => {
    const response = await download({ format: "csv", actorId: user.id, from: "2020-01-01T00:00:00Z" }, officer.token);
    const { db } = server.app.database;
    // The headers are here, the body not read yet: the record is already committed.
    const records = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "audit.exported"), eq(auditEvents.actorId, officer.id)))
      .orderBy(asc(auditEvents.seq));
    const record = records.at(-1);
    expect(record).toMatchObject({
      actorType: "user",
      outcome: "success",
      ip: expect.stringMatching(/127\.0\.0\.1/),
      details: { format: "csv", filter: { actorId: user.id, from: "2020-01-01T00:00:00.000Z" }, upToSeq: expect.stringMatching(/^\d+$/) },
    });
    expect(BigInt(record?.details.upToSeq as string)).toBeLessThan(record?.seq as bigint);
    expect(response.headers.get("content-disposition")).toContain(`audit-${record?.details.upToSeq as string}.csv`);
    const exported = csvToRecords(await response.text());
    expect(exported.every((row) => BigInt(row.seq as string) <= BigInt(record?.details.upToSeq as string))).toBe(true);
  });

  it("does not include its own record or anything after it", async () => {
    const exported = parseNdjson(await (await download({ action: "audit.exported" }, officer.token)).text());
    const { db } = server.app.database;
    const recorded = await db.select().from(auditEvents).where(eq(auditEvents.action, "audit.exported")).orderBy(asc(auditEvents.seq));
    const own = recorded.at(-1);
    expect(exported.map((record) => record.id)).toEqual(recorded.slice(0, -1).map((row) => row.id));
    expect(exported.map((record) => record.id)).not.toContain(own?.id);
  });

  it("asks for a bearer token: none or a bad one is 401", async () => {
    for (const token of [undefined, "not-a-token"]) {
      const response = await download({ format: "ndjson" }, token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await response.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: "UNAUTHENTICATED" } }] });
    }
    const basic = await fetch(exportUrl({}), { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } });
    expect(basic.status).toBe(401);
  });

  it("refuses a user without audit:export with 403, and audits the refusal", async () => {
    const response = await download({ format: "csv" }, user.token);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" } }] });
    const refusals = await server.app.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "audit.exported"), eq(auditEvents.actorId, user.id)));
    expect(refusals.map((row) => row.outcome)).toEqual(["denied"]);
  });

  it("refuses bad parameters with 400, naming the parameter", async () => {
    const cases: [string, string][] = [
      ["format=xml", "format"],
      ["actorID=x", "actorID"],
      ["outcome=MAYBE", "outcome"],
      ["from=yesterday", "from"],
      ["from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from"],
      ["actorId=a&actorId=b", "actorId"],
      ["action=auth.*.failed", "action"],
    ];
    for (const [query, field] of cases) {
      const response = await fetch(`${server.url}/audit/export?${query}`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: "BAD_USER_INPUT", field } }] });
    }
  });
});

describe("audit export paging", () => {
  it("reads the rows oldest first in keyset pages, stopping at the rows present when it began", async () => {
    const { db } = server.app.database;
    const audit = createAuditService({ db, exportPageSize: 7 });
    const principal: Principal = {
      kind: "user",
      userId: officer.id,
      sessionId: "00000000-0000-0000-0000-000000000000",
      roles: ["COMPLIANCE_OFFICER", "USER"],
      permissions: new Set(["audit:export"]),
      restriction: null,
      user: {} as UserRow,
    };
    const meta = { requestId: "export-paging", ip: null, userAgent: null };
    const { upToSeq, pages } = await audit.beginExport(principal, meta, { filter: {}, format: "ndjson" });
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const page of pages) {
      sizes.push(page.length);
      ids.push(...page.map((row) => row.id));
      if (sizes.length === 1) await registerUser(server.client); // arrives after the export began
    }
    const expected = await db.select().from(auditEvents).where(lte(auditEvents.seq, upToSeq)).orderBy(asc(auditEvents.seq));
    expect(ids).toEqual(expected.map((row) => row.id));
    expect(sizes.slice(0, -1).every((size) => size === 7)).toBe(true);
    expect(sizes.length).toBeGreaterThan(3);
  });
});

/** GET over a connection of its own (no pooled keep-alive socket), as a Node stream. */
function getRaw(url: string, token: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, resolve).on("error", reject);
  });
}

describe("a large export", () => {
  const BULK = 500;
  beforeAll(async () => {
    // Megabytes of rows, written by the real recorder in one transaction.
    await server.app.database.db.transaction(async (tx) => {
      for (let i = 0; i < BULK; i += 1) {
        await recordAudit(tx, { requestId: `bulk-${i}`, ip: null, userAgent: null }, {
          actor: { type: "system" },
          action: AuditAction.EMAIL_DELIVERY_FAILED,
          outcome: "failure",
          details: { i, padding: Array.from({ length: 8 }, () => "x".repeat(500)) }, // strings are clipped at 512
        });
      }
    });
  });

  it("waits for a slow reader and reaches it whole, in order", async () => {
    const response = await getRaw(exportUrl({ action: AuditAction.EMAIL_DELIVERY_FAILED }), officer.token);
    expect(response.statusCode).toBe(200);
    response.pause();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the server's socket buffer fills meanwhile
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const records = parseNdjson(Buffer.concat(chunks).toString("utf8"));
    expect(Buffer.concat(chunks).length).toBeGreaterThan(BULK * 4_000);
    expect(records.map((record) => (record.details as Record).i)).toEqual(Array.from({ length: BULK }, (_, i) => i));
  });

  it("stops cleanly when the reader goes away, and the server carries on", async () => {
    const response = await getRaw(exportUrl({}), officer.token);
    await new Promise((resolve) => response.once("data", resolve));
    response.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await download({ actorId: user.id }, officer.token);
    expect(again.status).toBe(200);
    expect(parseNdjson(await again.text()).length).toBeGreaterThan(0);
  });
});
