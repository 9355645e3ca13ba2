import zlib from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, Tally } from "../support/fuzz-oracle";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #9, D.1, at the HTTP layer: malformed requests to /graphql (bodies, content types,
 * methods, encodings, sizes) are refused with a 4xx and a JSON error, never a 5xx or a
 * leak; then random bodies for a budget (FUZZ_HTTP_BUDGET_MS, default 10 s).
 */
const BUDGET_MS = Number(process.env.FUZZ_HTTP_BUDGET_MS ?? 10_000);
const JSON_TYPE = { "content-type": "application/json" };
const PREFLIGHT = { "apollo-require-preflight": "true" };

let server: TestServer;
const tally = new Tally();

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  console.log(`fuzz-http [${server?.backend}] ${tally.total} responses by code: ${tally.summary()}`);
  await server?.close();
});

interface RawCase {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  query?: string;
  /** The status expected, when it matters more than "a 4xx". */
  status?: number;
}

const CASES: Record<string, RawCase> = {
  "malformed JSON": { body: "{not json" },
  "an empty body": { body: "" },
  "JSON null": { body: "null" },
  "a JSON array (batching is off)": { body: JSON.stringify([{ query: "{ me { id } }" }]) },
  "a JSON number": { body: "42" },
  "a JSON string": { body: '"{ me { id } }"' },
  "no query": { body: "{}" },
  "a query that is a number": { body: JSON.stringify({ query: 42 }) },
  "variables that are a string": { body: JSON.stringify({ query: "{ me { id } }", variables: "x" }) },
  "variables that are an array": { body: JSON.stringify({ query: "{ me { id } }", variables: [1] }) },
  "extensions that are a string": { body: JSON.stringify({ query: "{ me { id } }", extensions: "x" }) },
  "an operationName that is a number": { body: JSON.stringify({ query: "{ me { id } }", operationName: 42 }) },
  "an unknown operationName": { body: JSON.stringify({ query: "{ me { id } }", operationName: "Nope" }) },
  "a NUL in the document": { body: JSON.stringify({ query: "{ me\u0000 { id } }" }) },
  "a lone surrogate in the document": { body: JSON.stringify({ query: '{ policies(scopeId: "\uD800") { id } }' }) },
  "bytes that are not UTF-8": { body: Buffer.concat([Buffer.from('{"query":"{ me { id '), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from(' } }"}')]) },
  "a body over the size limit": { body: JSON.stringify({ query: "{ me { id } }", variables: { pad: "x".repeat(300_000) } }), status: 413 },
  "text/plain (a CSRF-able simple request)": { headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: "{ me { id } }" }) },
  "application/xml": { headers: { "content-type": "application/xml" }, body: "<query/>" },
  "multipart/form-data": { headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x\r\n\r\n--x--" },
  "form-urlencoded": { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "query=%7B%20me%20%7B%20id%20%7D%20%7D" },
  "application/graphql": { headers: { "content-type": "application/graphql" }, body: "{ me { id } }" },
  "no content type": { headers: {}, body: JSON.stringify({ query: "{ me { id } }" }) },
  "a latin1 charset": { headers: { "content-type": "application/json; charset=latin1" }, body: JSON.stringify({ query: "{ me { id } }" }) },
  "gzip that is not gzip": { headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: "not gzip at all" },
  "a gzip bomb over the limit": { headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: zlib.gzipSync(Buffer.alloc(5_000_000, 32)), status: 413 },
  "an unknown content encoding": { headers: { ...JSON_TYPE, "content-encoding": "zstd-ish" }, body: "{}" },
  "a GET mutation": { method: "GET", headers: PREFLIGHT, query: "query=" + encodeURIComponent("mutation { logout }"), status: 405 },
  "a GET with a syntax error": { method: "GET", headers: PREFLIGHT, query: "query=" + encodeURIComponent("{ me {") },
  "a GET with variables that are not JSON": { method: "GET", headers: PREFLIGHT, query: `query=${encodeURIComponent("{ me { id } }")}&variables=%7Bnope` },
  "a GET with extensions that are not JSON": { method: "GET", headers: PREFLIGHT, query: `query=${encodeURIComponent("{ me { id } }")}&extensions=%7Bnope` },
  "a GET with a NUL": { method: "GET", headers: PREFLIGHT, query: `query=${encodeURIComponent("{ me { id } }")}%00` },
  "a GET with a repeated query parameter": { method: "GET", headers: PREFLIGHT, query: "query=%7B__typename%7D&query=%7B__typename%7D" },
  "PUT": { method: "PUT", body: JSON.stringify({ query: "{ me { id } }" }) },
  "DELETE": { method: "DELETE" },
  "PATCH": { method: "PATCH", body: "{}" },
};

describe("raw HTTP requests to /graphql", () => {
  for (const [label, { method = "POST", headers = JSON_TYPE, body, query, status }] of Object.entries(CASES)) {
    it(`refuses ${label} with a 4xx and a typed JSON error`, async () => {
      const url = `${server.url}/graphql${query === undefined ? "" : `?${query}`}`;
      const outcome = await send(url, { method, headers, body });
      tally.add(outcome, label);
      expect(outcome.problems, outcome.text.slice(0, 300)).toEqual([]);
      if (status !== undefined) expect(outcome.status).toBe(status);
      else expect(outcome.status, outcome.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
      expect(outcome.code).not.toMatch(/^HTTP_/);
    });
  }

  it(
    "answers random bodies and content types without a 5xx, a leak or a hang",
    async () => {
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes)),
        fc.json().map((text) => Buffer.from(text)),
        fc.record({ query: fc.oneof(fc.string(), fc.json()), variables: fc.oneof(fc.jsonValue(), fc.string()) }).map((value) => Buffer.from(JSON.stringify(value))),
      );
      const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "application/graphql-response+json", "text/plain", "application/octet-stream");
      const property = fc.asyncProperty(body, contentType, async (bytes, type) => {
        const outcome = await send(`${server.url}/graphql`, { method: "POST", headers: { "content-type": type, ...PREFLIGHT }, body: bytes });
        tally.add(outcome, `random ${type} body`);
        if (outcome.problems.length > 0) throw new Error(`${outcome.status} ${outcome.problems.join(", ")}: ${outcome.text.slice(0, 300)}`);
      });
      await fc.assert(property, { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, endOnFailure: true });
    },
    BUDGET_MS + 60_000,
  );
});
