import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginDocument, LogoutDocument, MeDocument, RefreshDocument } from "../generated/graphql";
import { PASSWORD, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

const APP_ORIGIN = "http://app.example.test";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { CORS_ORIGINS: APP_ORIGIN } });
});
afterAll(() => server.close());

describe("operational endpoints", () => {
  it("reports liveness and readiness of the database and the store", async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe("ok");
    expect(body.checks.database).toBe("ok");
    expect(Object.values(body.checks)).toHaveLength(2);
  });

  it("serves Prometheus metrics", async () => {
    await fetch(`${server.url}/healthz`);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });

  it("echoes a well-formed x-request-id and makes one up otherwise", async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "client-chosen-id-42" } });
    expect(given.headers.get("x-request-id")).toBe("client-chosen-id-42");
    const invalid = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "<script>" } });
    expect(invalid.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the GraphQL IDE", () => {
  it("serves GraphQL Playground at /graphql to a browser, from this server's own assets", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("GraphQLPlayground.init");
    const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset.startsWith("/graphql-ide/"), `${asset} is served by this server`).toBe(true);
      const fetched = await fetch(`${server.url}${asset}`);
      expect(fetched.status, asset).toBe(200);
    }
    // Nothing is fetched from elsewhere (an SVG namespace URI is not a fetch).
    expect(html).not.toMatch(/https?:\/\/(?!localhost|www\.w3\.org\/)[a-z]/i);
  });
});

describe("browser protections", () => {
  it("answers CORS preflights for allowed origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const denied = await preflight("http://evil.example.test");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses requests a browser would send cross-site without a preflight (CSRF)", async () => {
    const simplePost = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ query: "mutation { logout }" }),
    });
    expect(simplePost.status).toBe(400);
    const simpleGet = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ me { id } }")}`);
    expect(simpleGet.status).toBe(400);
    const preflighted = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ me { id } }")}`, {
      headers: { "apollo-require-preflight": "true" },
    });
    expect(preflighted.status).toBe(200);
  });

  it("can keep the refresh token in an httpOnly SameSite cookie instead of the payload", async () => {
    const { client } = server;
    const user = await registerUser(client);
    const login = await client.request(LoginDocument, {
      input: { identifier: user.user.email, password: PASSWORD, tokenDelivery: "COOKIE" },
    });
    const payload = login.data?.login;
    expect(payload?.__typename).toBe("AuthPayload");
    if (payload?.__typename !== "AuthPayload") return;
    expect(payload.refreshToken).toBeNull();
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^ais_refresh=[\w-]+\.[\w-]+;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/graphql/);

    const cookie = setCookie.split(";")[0] as string;
    const refreshed = await client.request(RefreshDocument, {}, { headers: { cookie } });
    expect(refreshed.errors).toBeUndefined();
    expect(refreshed.data?.refresh.refreshToken).toBeNull();
    const rotated = (refreshed.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(rotated).toMatch(/^ais_refresh=/);
    expect(rotated).not.toBe(cookie);
    const token = refreshed.data?.refresh.accessToken as string;
    expect((await client.ok(MeDocument, {}, { token })).me?.id).toBe(user.user.id);

    const logout = await client.request(LogoutDocument, {}, { token, headers: { cookie: rotated } });
    expect(logout.data?.logout).toBe(true);
    expect(logout.headers.get("set-cookie")).toMatch(/ais_refresh=;.*Expires=Thu, 01 Jan 1970/);
    expect(errorCode(await client.request(RefreshDocument, {}, { headers: { cookie: rotated } }))).toBe("UNAUTHENTICATED");
  });

  it("says plainly when refresh has no token at all", async () => {
    const response = await server.client.request(RefreshDocument, {});
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
    expect(response.errors?.[0]?.message).toMatch(/No refresh token/);
  });
});
