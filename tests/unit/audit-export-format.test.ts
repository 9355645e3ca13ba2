import { describe, expect, it } from "vitest";
import { csvCell, csvHeader, csvLine, ndjsonLine, toExportRecord } from "../../src/audit/audit-export-format";
import type { AuditEventRow } from "../../src/audit/audit-query";

const row: AuditEventRow = {
  seq: 7n,
  id: "3f1c8f6e-8d52-4d4a-9d3b-0d8e8a0c2f11",
  occurredAt: new Date("2025-01-02T03:04:05.678Z"),
  actorType: "anonymous",
  actorId: null,
  action: "auth.login.failed",
  targetType: null,
  targetId: null,
  outcome: "failure",
  ip: "127.0.0.1",
  userAgent: '=HYPERLINK("http://evil.example","click"), really\nyes',
  requestId: "req-1",
  details: { identifier: "ada@example.com", reason: "unknown_identifier" },
  prevHash: "a".repeat(64),
  hash: "b".repeat(64),
};

describe("CSV cells", () => {
  it("quote per RFC 4180 only when needed", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(null)).toBe("");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\r\nlines")).toBe('"two\r\nlines"');
  });

  it("defuse cells a spreadsheet would run as formulas", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) {
      expect(csvCell(`${start}1+1`).replace(/^"/, "")).toMatch(/^'/);
    }
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("=SUM(A1,A2)")).toBe(`"'=SUM(A1,A2)"`);
    expect(csvCell("a=1")).toBe("a=1");
  });
});

describe("export lines", () => {
  it("write NDJSON: one JSON object per line with the API's names and enum spellings", () => {
    const line = ndjsonLine(toExportRecord(row));
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      seq: "7",
      id: row.id,
      occurredAt: "2025-01-02T03:04:05.678Z",
      actorType: "ANONYMOUS",
      actorId: null,
      action: "auth.login.failed",
      targetType: null,
      targetId: null,
      outcome: "FAILURE",
      ip: "127.0.0.1",
      userAgent: row.userAgent,
      requestId: "req-1",
      details: row.details,
      prevHash: row.prevHash,
      hash: row.hash,
    });
  });

  it("write CSV with a header, CRLF records and details as a JSON column", () => {
    expect(csvHeader()).toBe(
      "seq,id,occurredAt,actorType,actorId,action,targetType,targetId,outcome,ip,userAgent,requestId,details,prevHash,hash\r\n",
    );
    const line = csvLine(toExportRecord(row));
    expect(line).toBe(
      [
        "7",
        row.id,
        "2025-01-02T03:04:05.678Z",
        "ANONYMOUS",
        "",
        "auth.login.failed",
        "",
        "",
        "FAILURE",
        "127.0.0.1",
        `"'=HYPERLINK(""http://evil.example"",""click""), really\nyes"`,
        "req-1",
        `"{""identifier"":""ada@example.com"",""reason"":""unknown_identifier""}"`,
        "a".repeat(64),
        "b".repeat(64),
      ].join(",") + "\r\n",
    );
  });
});
