import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logging/logger";
import { LoginDocument, RefreshDocument, RegisterDocument } from "../generated/graphql";
import { PASSWORD, registerUser } from "../support/fixtures";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * A browser front end whose refresh cookie cannot work is told so at sign-in, in the answer
 * (AuthPayload.refreshCookieWarning) and once per origin in the log, instead of "succeeding"
 * with a cookie the browser drops. The server sits as deployed behind a TLS proxy at
 * https://id.example.com (TRUST_PROXY, so X-Forwarded-Host/-Proto say how browsers reached
 * it), and is also reached directly on its loopback address.
 */
const warnings: { origin?: string; problem?: string; msg: string }[] = [];
let server: TestServer;
let email: string;

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as { level: number; msg: string; origin?: string; problem?: string };
      if (line.msg.startsWith("refresh cookie cannot work")) warnings.push(line);
      done();
    },
  });
  server = await startTestServer({
    logger: createLogger({ level: "warn", destination }),
    env: {
      PUBLIC_URL: "https://id.example.com",
      CORS_ORIGINS: "https://app.example.com,https://console.example.net,http://app.example.com",
      TRUST_PROXY: "loopback",
    },
  });
  email = (await registerUser(server.client)).user.email;
});
afterAll(() => server.close());

const viaProxy = (proto: "https" | "http", host = "id.example.com") => ({ "x-forwarded-proto": proto, "x-forwarded-host": host });

async function cookieLogin(headers: Record<string, string>) {
  const response = await server.client.request(LoginDocument, { input: { identifier: email, password: PASSWORD, tokenDelivery: "COOKIE" } }, { headers });
  if (response.data?.login.__typename !== "AuthPayload") throw new Error(`no session: ${JSON.stringify(response.errors)}`);
  return { payload: response.data.login, headers: response.headers };
}

describe("refresh cookie warnings", () => {
  it("says nothing when the cookie works: same origin, or another origin of the same site over https", async () => {
    for (const origin of ["https://id.example.com", "https://app.example.com"]) {
      const { payload, headers } = await cookieLogin({ origin, ...viaProxy("https") });
      expect(payload.refreshCookieWarning, origin).toBeNull();
      expect(headers.get("set-cookie")).toMatch(/^ais_refresh=.*Secure.*SameSite=Strict/i);
    }
    // Straight to the loopback address over http: browsers keep Secure cookies on localhost.
    const { payload } = await cookieLogin({ origin: server.url });
    expect(payload.refreshCookieWarning).toBeNull();
    expect(warnings).toEqual([]);
  });

  it("warns when the page is on another site, or on the same host under another scheme", async () => {
    const crossSite = await cookieLogin({ origin: "https://console.example.net", ...viaProxy("https") });
    expect(crossSite.payload.refreshCookieWarning).toMatchObject({ problem: "CROSS_SITE" });
    expect(crossSite.payload.refreshCookieWarning?.message).toContain("https://console.example.net is on another site than this server (https://id.example.com)");
    expect(crossSite.payload.accessToken).toBeTruthy();

    const otherScheme = await cookieLogin({ origin: "http://app.example.com", ...viaProxy("https") });
    expect(otherScheme.payload.refreshCookieWarning?.problem).toBe("CROSS_SITE");
  });

  it("warns when a Secure cookie goes out over plain http to a host other than localhost", async () => {
    const { payload } = await cookieLogin({ origin: "http://id.example.com", ...viaProxy("http") });
    expect(payload.refreshCookieWarning).toMatchObject({ problem: "INSECURE_CONNECTION" });
    expect(payload.refreshCookieWarning?.message).toContain("plain http at id.example.com");
  });

  it("warns when the origin is not allowed, and the browser gets no CORS answer to read", async () => {
    const { payload, headers } = await cookieLogin({ origin: "https://elsewhere.example.org", ...viaProxy("https") });
    expect(payload.refreshCookieWarning).toMatchObject({ problem: "ORIGIN_NOT_ALLOWED" });
    expect(payload.refreshCookieWarning?.message).toContain("CORS_ORIGINS");
    expect(headers.get("access-control-allow-origin")).toBeNull();
  });

  it("logs a refused preflight too: the request a browser never sends has no answer to carry the warning", async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: "https://preflight.example.org", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(warnings.filter((line) => line.origin === "https://preflight.example.org")).toMatchObject([{ problem: "ORIGIN_NOT_ALLOWED" }]);
    const allowed = await fetch(`${server.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("logs each problem once per origin; an answer without a cookie carries no warning", async () => {
    const before = warnings.length;
    await cookieLogin({ origin: "https://console.example.net", ...viaProxy("https") });
    expect(warnings.length).toBe(before);
    expect(warnings.filter((line) => line.origin === "https://console.example.net")).toHaveLength(1);

    // A BODY sign-in sets no cookie; the origin is still refused by CORS, and that is logged.
    const body = await server.client.ok(LoginDocument, { input: { identifier: email, password: PASSWORD } }, { headers: { origin: "https://other.example.org" } });
    expect(body.login.__typename === "AuthPayload" && body.login.refreshCookieWarning).toBeNull();
    expect(warnings.filter((line) => line.origin === "https://other.example.org")).toMatchObject([{ problem: "ORIGIN_NOT_ALLOWED" }]);
    const registered = await server.client.ok(
      RegisterDocument,
      { input: { email: `cookie-${Date.now()}@example.com`, password: PASSWORD, tokenDelivery: "COOKIE" } },
      { headers: { origin: "https://fresh.example.org", ...viaProxy("https") } },
    );
    expect(registered.register.refreshCookieWarning?.problem).toBe("ORIGIN_NOT_ALLOWED");
    expect(warnings.filter((line) => line.origin === "https://fresh.example.org")).toHaveLength(1);
  });

  it("judges the rotated cookie of a refresh the same way", async () => {
    const { headers } = await cookieLogin({ origin: "https://app.example.com", ...viaProxy("https") });
    const cookie = (headers.get("set-cookie") ?? "").split(";")[0]!;
    const sameSite = await server.client.request(RefreshDocument, {}, { headers: { cookie, origin: "https://app.example.com", ...viaProxy("https") } });
    expect(sameSite.data?.refresh.refreshCookieWarning).toBeNull();
    const rotated = (sameSite.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(rotated).toMatch(/^ais_refresh=/);
    const crossSite = await server.client.ok(RefreshDocument, {}, { headers: { cookie: rotated, origin: "https://console.example.net", ...viaProxy("https") } });
    expect(crossSite.refresh.refreshCookieWarning?.problem).toBe("CROSS_SITE");
  });
});
