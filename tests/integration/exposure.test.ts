import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { inlineScriptHashes } from "../../src/http/security-headers";
import { LoginDocument, RefreshDocument } from "../generated/graphql";
import { PASSWORD, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * What the server gives away: nothing typed into the wrong field is kept, a cookie-held
 * refresh token never comes back in a body, every response carries the usual security
 * headers (with a CSP the IDE runs under), and introspection and /metrics are the
 * operator's choice.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("failed sign-ins in the audit trail", () => {
  it("keep a fingerprint of the identifier, never what was typed", async () => {
    const typed = "Tr0ub4dor&3-my-actual-password";
    await server.client.request(LoginDocument, { input: { identifier: typed, password: "whatever it was" } });
    await server.client.request(LoginDocument, { input: { identifier: typed, password: "whatever it was" } });
    const rows = await server.app.database.db.select().from(auditEvents).where(eq(auditEvents.action, "auth.login.failed"));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const text = JSON.stringify(rows.map((row) => row.details));
    expect(text).not.toContain(typed);
    expect(text.toLowerCase()).not.toContain(typed.toLowerCase());
    const details = rows.map((row) => (row.details as { identifier: { kind: string; fingerprint: string } }).identifier);
    expect(details[0]?.kind).toBe("username");
    // The same identifier twice: the same fingerprint, so repeated tries still show.
    expect(details[0]?.fingerprint).toBe(details[1]?.fingerprint);
  });
});

describe("refresh from the cookie", () => {
  it("refuses to hand the rotated token out in the body, and rotates nothing", async () => {
    const user = await registerUser(server.client);
    const login = await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: PASSWORD, tokenDelivery: "COOKIE" } });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const leaked = await server.client.request(RefreshDocument, { tokenDelivery: "BODY" }, { headers: { cookie } });
    expect(errorCode(leaked)).toBe("BAD_USER_INPUT");
    expect(leaked.errors?.[0]?.extensions?.field).toBe("tokenDelivery");
    expect(JSON.stringify(leaked)).not.toMatch(/refreshToken":"/);
    const normal = await server.client.request(RefreshDocument, {}, { headers: { cookie } });
    expect(normal.errors).toBeUndefined();
    expect(normal.data?.refresh.refreshToken).toBeNull();
  });
});

describe("security headers", () => {
  it("are on API answers and on the IDE page, whose inline script the CSP allows by hash", async () => {
    const api = await fetch(`${server.url}/healthz`);
    expect(api.headers.get("x-content-type-options")).toBe("nosniff");
    expect(api.headers.get("x-frame-options")).toBe("DENY");
    expect(api.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    // Plain http here: no HSTS (it would be ignored, and lock out a later plain-http setup).
    expect(api.headers.get("strict-transport-security")).toBeNull();

    const ide = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    const html = await ide.text();
    const csp = ide.headers.get("content-security-policy") ?? "";
    const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? "";
    expect(scriptSrc).not.toMatch(/unsafe-inline/);
    const hashes = inlineScriptHashes(html);
    expect(hashes.length).toBeGreaterThan(0);
    for (const hash of hashes) expect(scriptSrc).toContain(hash);
    for (const src of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) expect(src[1]).toMatch(/^\//);
  });

  it("include HSTS when the public URL is HTTPS", async () => {
    const https = await startTestServer({ env: { PUBLIC_URL: "https://id.example.com" } });
    try {
      const response = await fetch(`${https.url}/healthz`);
      expect(response.headers.get("strict-transport-security")).toMatch(/max-age=31536000/);
    } finally {
      await https.close();
    }
  });
});

describe("introspection and /metrics", () => {
  it("are on by default, and the operator can turn them off or guard /metrics with a token", async () => {
    const introspect = JSON.stringify({ query: "{ __schema { queryType { name } } }" });
    expect((await server.client.raw(introspect)).errors).toBeUndefined();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);

    const closed = await startTestServer({ env: { INTROSPECTION: "false", METRICS_ENABLED: "false" } });
    const guarded = await startTestServer({ env: { METRICS_TOKEN: "metrics-token-0123456789" } });
    try {
      expect(errorCode(await closed.client.raw(introspect))).toBe("GRAPHQL_VALIDATION_FAILED");
      expect((await fetch(`${closed.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer metrics-token-wrong-guess" } });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } });
      expect(right.status).toBe(200);
      expect(await right.text()).toMatch(/process_cpu/);
    } finally {
      await Promise.all([closed.close(), guarded.close()]);
    }
  });
});
