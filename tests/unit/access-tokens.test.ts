import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import jwt from "jsonwebtoken";
import { afterAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock";
import { createAccessTokenService } from "../../src/auth/access-tokens";
import { loadSigningKeys, type SigningKeys } from "../../src/auth/signing-keys";

class MovableClock implements Clock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

const START = Date.UTC(2024, 0, 1, 12, 0, 0); // whole seconds
const TTL = 15 * 60 * 1000;
const hsKeys = loadSigningKeys({ jwtSecret: "x".repeat(40), dataDir: "/tmp/unused" });

function service(keys: SigningKeys, clock: Clock, overrides: { issuer?: string; audience?: string } = {}) {
  return createAccessTokenService({
    keys,
    issuer: overrides.issuer ?? "https://id.example.com",
    audience: overrides.audience ?? "agent-identity",
    ttlMs: TTL,
    clock,
  });
}

const farFuture = new Date(START + 30 * 86_400_000);
const input = { userId: "user-1", sessionId: "session-1", roles: ["USER", "ADMIN"], notAfter: farFuture };

describe("access tokens (HS256)", () => {
  it("uses HS256 and publishes no keys", () => {
    expect(hsKeys.algorithm).toBe("HS256");
    expect(hsKeys.jwks.keys).toEqual([]);
  });

  it("round-trips: a token it issued verifies with its claims", () => {
    const clock = new MovableClock(START);
    const tokens = service(hsKeys, clock);
    const { token, expiresAt } = tokens.issue(input);
    expect(expiresAt).toEqual(new Date(START + TTL));
    const check = tokens.verify(token);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.claims.sub).toBe("user-1");
    expect(check.claims.sid).toBe("session-1");
    expect(check.claims.roles).toEqual(["USER", "ADMIN"]);
    expect(check.claims.iat).toBe(START / 1000);
    expect(check.claims.exp).toBe((START + TTL) / 1000);
    expect(check.claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("gives each token its own jti", () => {
    const tokens = service(hsKeys, new MovableClock(START));
    const a = tokens.verify(tokens.issue(input).token);
    const b = tokens.verify(tokens.issue(input).token);
    expect(a.ok && b.ok && a.claims.jti !== b.claims.jti).toBe(true);
  });

  it("caps exp at notAfter (the session's end)", () => {
    const tokens = service(hsKeys, new MovableClock(START));
    const notAfter = new Date(START + 60_000);
    const { token, expiresAt } = tokens.issue({ ...input, notAfter });
    expect(expiresAt).toEqual(notAfter);
    const check = tokens.verify(token);
    expect(check.ok && check.claims.exp).toBe((START + 60_000) / 1000);
  });

  it("reports 'expired' once the clock reaches exp", () => {
    const clock = new MovableClock(START);
    const tokens = service(hsKeys, clock);
    const { token } = tokens.issue(input);
    clock.set(START + TTL - 1000);
    expect(tokens.verify(token).ok).toBe(true);
    clock.set(START + TTL);
    expect(tokens.verify(token)).toEqual({ ok: false, reason: "expired" });
    clock.set(START + TTL + 3_600_000);
    expect(tokens.verify(token)).toEqual({ ok: false, reason: "expired" });
  });

  it("reports 'invalid' for another issuer or audience", () => {
    const clock = new MovableClock(START);
    const { token } = service(hsKeys, clock).issue(input);
    expect(service(hsKeys, clock, { issuer: "https://evil.example.com" }).verify(token)).toEqual({ ok: false, reason: "invalid" });
    expect(service(hsKeys, clock, { audience: "other-service" }).verify(token)).toEqual({ ok: false, reason: "invalid" });
  });

  it("reports 'invalid' for another secret, a tampered payload, garbage, and alg none", () => {
    const clock = new MovableClock(START);
    const tokens = service(hsKeys, clock);
    const { token } = tokens.issue(input);

    const otherKeys = loadSigningKeys({ jwtSecret: "y".repeat(40), dataDir: "/tmp/unused" });
    expect(service(otherKeys, clock).verify(token)).toEqual({ ok: false, reason: "invalid" });

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ["SUPERADMIN"] })).toString("base64url");
    expect(tokens.verify(`${header}.${forged}.${signature}`)).toEqual({ ok: false, reason: "invalid" });

    expect(tokens.verify("not-a-jwt")).toEqual({ ok: false, reason: "invalid" });

    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT", kid: hsKeys.all[0]!.kid })).toString("base64url");
    expect(tokens.verify(`${none}.${payload}.`)).toEqual({ ok: false, reason: "invalid" });
  });

  it("reports 'invalid' for a correctly signed token missing required claims", () => {
    const clock = new MovableClock(START);
    const token = jwt.sign(
      { sub: "user-1", iat: START / 1000, exp: START / 1000 + 600 },
      hsKeys.all[0]!.signingKey,
      { algorithm: "HS256", keyid: hsKeys.all[0]!.kid, issuer: "https://id.example.com", audience: "agent-identity" },
    );
    expect(service(hsKeys, clock).verify(token)).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("access tokens (RS256, generated key)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "access-tokens-test-"));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const rsKeys = loadSigningKeys({ dataDir });

  it("generates an RSA key file with mode 0600", () => {
    expect(rsKeys.algorithm).toBe("RS256");
    const file = path.join(dataDir, "keys", "jwt-private.pem");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("signs with a kid equal to the published JWKS key's kid", () => {
    const { token } = service(rsKeys, new MovableClock(START)).issue(input);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header.alg).toBe("RS256");
    expect(decoded?.header.kid).toBe(rsKeys.all[0]!.kid);
    expect(rsKeys.jwks.keys).toHaveLength(1);
    expect(rsKeys.jwks.keys[0]?.kid).toBe(rsKeys.all[0]!.kid);
    expect(rsKeys.jwks.keys[0]).not.toHaveProperty("d"); // public part only
  });

  it("round-trips and verifies with the published public key", () => {
    const clock = new MovableClock(START);
    const { token } = service(rsKeys, clock).issue(input);
    const check = service(rsKeys, clock).verify(token);
    expect(check.ok && check.claims.sub).toBe("user-1");
    const jwk = rsKeys.jwks.keys[0] as crypto.JsonWebKey;
    const publicKey = crypto.createPublicKey({ key: jwk, format: "jwk" });
    expect(() =>
      jwt.verify(token, publicKey, { algorithms: ["RS256"], clockTimestamp: START / 1000 }),
    ).not.toThrow();
  });

  it("reuses the key: loading twice from the same dataDir yields the same kid", () => {
    const again = loadSigningKeys({ dataDir });
    expect(again.all[0]!.kid).toBe(rsKeys.all[0]!.kid);
    expect(again.all[0]!.chainKey.equals(rsKeys.all[0]!.chainKey)).toBe(true);
  });

  it("refuses an HS256 token signed with the public key (algorithm confusion)", () => {
    const clock = new MovableClock(START);
    const { token } = service(rsKeys, clock).issue(input);
    const [, payload] = token.split(".") as [string, string];
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: rsKeys.all[0]!.kid })).toString("base64url");
    const pem = rsKeys.all[0]!.verificationKey.export({ format: "pem", type: "spki" });
    const signature = crypto.createHmac("sha256", pem).update(`${header}.${payload}`).digest("base64url");
    expect(service(rsKeys, clock).verify(`${header}.${payload}.${signature}`)).toEqual({ ok: false, reason: "invalid" });
  });
});
