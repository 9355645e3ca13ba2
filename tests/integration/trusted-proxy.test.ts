import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { LoginDocument } from "../generated/graphql";
import { uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Behind a proxy, the client ip is the address the last trusted hop saw, never an entry the
 * client wrote itself at the left of X-Forwarded-For. Rotating that entry must not escape the
 * ip limits, and the audit trail records the address the proxy saw.
 */
const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function serverTrusting(trustProxy: string) {
  const server = await startTestServer({ env: { TRUST_PROXY: trustProxy, RATE_LIMIT_SCALE: "1", IP_FAILURE_LIMIT: "6" } });
  servers.push(server);
  return server;
}

const spoofed = () => `${crypto.randomInt(1, 223)}.${crypto.randomInt(0, 255)}.${crypto.randomInt(0, 255)}.${crypto.randomInt(1, 254)}`;

async function failedLogins(server: TestServer, count: number, forwardedFor: () => string) {
  const codes: unknown[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await server.client.request(
      LoginDocument,
      { input: { identifier: uniqueEmail("nobody"), password: "not the password" } },
      { headers: { "x-forwarded-for": forwardedFor() } },
    );
    codes.push(errorCode(response));
  }
  return codes;
}

describe("TRUST_PROXY", () => {
  for (const [setting, chain] of [
    ["true", (real: string) => `${spoofed()}, ${real}`],
    ["1", (real: string) => `${spoofed()}, ${real}`],
    ["127.0.0.1/8", (real: string) => `${spoofed()}, ${spoofed()}, ${real}`],
    ["2", (real: string) => `${spoofed()}, ${real}, 10.1.2.3`],
  ] as const) {
    it(`${setting}: a rotated client-written entry neither escapes the ip limits nor reaches the audit trail`, async () => {
      const server = await serverTrusting(setting);
      const real = "198.51.100.77";
      const codes = await failedLogins(server, 35, () => chain(real));
      expect(codes.filter((code) => code === "RATE_LIMITED").length).toBeGreaterThan(20);
      const failures = await server.app.database.db
        .select({ ip: auditEvents.ip })
        .from(auditEvents)
        .where(and(eq(auditEvents.action, "auth.login.failed")));
      expect(failures.length).toBeGreaterThan(0);
      expect(new Set(failures.map((row) => row.ip))).toEqual(new Set([real]));
    });
  }

  it("false (the default): the header is ignored and the peer is the client", async () => {
    const server = await serverTrusting("false");
    await failedLogins(server, 2, () => "203.0.113.9");
    const failures = await server.app.database.db.select({ ip: auditEvents.ip }).from(auditEvents).where(eq(auditEvents.action, "auth.login.failed"));
    expect(new Set(failures.map((row) => row.ip))).toEqual(new Set(["127.0.0.1"]));
  });
});
