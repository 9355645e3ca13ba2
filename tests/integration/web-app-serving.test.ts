import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * How the server hands out the web app's build at /app: the page always revalidated, hashed
 * assets kept for good, deep links answered with the page, and a missing build explained
 * rather than crashing. A stand-in build keeps this independent of `npm run build`.
 */
const SCRIPT = "assets/index-Bx7f3Q1a.js";
const PAGE = `<!doctype html><html><head><script type="module" crossorigin src="/app/${SCRIPT}"></script></head><body><div id="root"></div></body></html>`;
let build: string;
let server: TestServer;

beforeAll(async () => {
  build = fs.mkdtempSync(path.join(os.tmpdir(), "ais-web-"));
  fs.mkdirSync(path.join(build, "assets"));
  fs.writeFileSync(path.join(build, "index.html"), PAGE);
  fs.writeFileSync(path.join(build, SCRIPT), "export {};\n");
  server = await startTestServer({ webAppDir: build });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(build, { recursive: true, force: true });
});

const get = (url: string, init?: RequestInit) => fetch(`${server.url}${url}`, init);

describe("the web app at /app", () => {
  it("serves the page, revalidated on every load, under the same CSP as everything else (scripts from this origin only)", async () => {
    for (const url of ["/app", "/app/", "/app/index.html"]) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toBe(PAGE);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/script-src 'self'[^;]*;/);
      expect(/script-src[^;]*'unsafe-inline'/.test(csp)).toBe(false);
      expect(csp).toContain("frame-ancestors 'none'");
    }
  });

  it("answers the app's own routes (the emailed links) with the page, so deep links and reloads work", async () => {
    for (const url of ["/app/reset-password?token=abc.def", "/app/verify-email?token=x", "/app/agents/5e148af7-e103-43be-97be-7fe8f468b3e1"]) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toBe(PAGE);
    }
  });

  it("lets browsers keep hashed assets for a year, and a missing asset is a 404, not the page", async () => {
    const asset = await get(`/app/${SCRIPT}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const missing = await get("/app/assets/index-gone.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await missing.text()).not.toContain("<html");
  });

  it("refuses other methods without an error, and never serves files from outside the build", async () => {
    expect((await get("/app/anything", { method: "POST" })).status).toBe(404);
    const escaped = await get("/app/..%2f..%2fpackage.json");
    expect(await escaped.text()).not.toContain("agent-identity-server");
  });

  it("says how to build when the build is missing, and serves a build made while it runs", async () => {
    const index = path.join(build, "index.html");
    fs.renameSync(index, `${index}.away`);
    try {
      for (const url of ["/app/", "/app/sign-in", `/app/${SCRIPT}`]) {
        const response = await get(url);
        expect(response.status, url).toBe(503);
        expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
        expect(await response.text()).toContain("npm run build");
      }
      expect((await get("/healthz")).status).toBe(200);
    } finally {
      fs.renameSync(`${index}.away`, index);
    }
    expect((await get("/app/")).status).toBe(200);
  });
});
