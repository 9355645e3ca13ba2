import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * The GraphQL-over-HTTP audit suite of graphql-http, run as a plain client would (no CSRF
 * preflight header). Every MUST holds; the audits below are recommendations (SHOULD/MAY)
 * this server departs from on purpose, each for the reason given.
 */
const ALLOWED_TO_FAIL: Record<string, string> = {
  // CSRF prevention (Apollo csrfPrevention): a GET needs a preflight-forcing header, so a
  // browser cannot send it cross-site; the audits send none and get 400.
  "5A70": "MAY accept application/x-www-form-urlencoded GETs: refused without a preflight header (CSRF)",
  D6D5: "MAY allow {variables} in GETs (graphql-response+json): refused without a preflight header (CSRF)",
  "6A70": "MAY allow {variables} in GETs (application/json): refused without a preflight header (CSRF)",
  // A malformed request is the client's error: it gets a 4xx whatever it accepts (README,
  // Errors), so parse failures are 400 GRAPHQL_PARSE_FAILED, not 200 with errors.
  "572B": "SHOULD use 200 on parse failure with application/json: this server answers 400 GRAPHQL_PARSE_FAILED",
  FDE2: "SHOULD use 200 on validation failure with application/json: this server answers 400 GRAPHQL_VALIDATION_FAILED",
  "7B9B": "SHOULD use 200 on variable coercion failure with application/json: this server answers 400 BAD_USER_INPUT",
};

let server: TestServer;
const serverErrors: string[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.status >= 500) serverErrors.push(`${init?.method ?? "GET"} ${String(input)} -> ${response.status}`);
  return response;
};

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("GraphQL over HTTP (graphql-http serverAudits)", () => {
  const audits = serverAudits({ url: () => `${server.url}/graphql`, fetchFn: recordingFetch });

  for (const audit of audits) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      if (result.status === "ok") return;
      expect(result.status, `${result.id}: ${result.reason}`).not.toBe("error");
      expect(ALLOWED_TO_FAIL[result.id], `${result.id} ${result.name}: ${result.reason}`).toBeDefined();
    });
  }

  it("answers none of the audits' requests with a 5xx", () => {
    expect(serverErrors).toEqual([]);
  });

  it("allows only recommendations to fail", () => {
    const names = new Map(audits.map((audit) => [audit.id, audit.name]));
    for (const id of Object.keys(ALLOWED_TO_FAIL)) expect(names.get(id), id).toMatch(/^(SHOULD|MAY) /);
  });
});
