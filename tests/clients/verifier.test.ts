import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import express from "express";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier, InvalidTokenError, type TokenVerifierOptions } from "../../clients/verifier/src";
import { LogoutDocument } from "../generated/graphql";
import { as } from "../support/assertions";
import { registerUser } from "../support/fixtures";
import { ManualClock } from "../support/manual-clock";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * The verifier another service embeds, against a real server: what it accepts, what it
 * refuses and why, its middleware on a real Express app, and liveness through tokenStatus.
 */
const clock = new ManualClock(Date.UTC(2026, 3, 1, 8, 0, 0));
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL: "15m" } });
});
afterAll(() => server.close());

/** Counts requests by path, so tests see what the verifier asks the server. */
const asked: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  asked.push(new URL(String(input)).pathname);
  return fetch(input, init);
};

function verifier(overrides: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    url: server.url,
    issuer: "agent-identity",
    audience: "agent-identity",
    fetch: countingFetch,
    now: () => clock.now().getTime(),
    ...overrides,
  });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).reason;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const partsOf = (token: string) => {
  const [header, payload] = token.split(".") as [string, string];
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>,
  };
};

/** Signs `claims` with the server's own key under its kid: only the claims can make these fail. */
function signedByServer(claims: Record<string, unknown>): string {
  const key = server.app.keys.signerAt(clock.now());
  return jwt.sign(claims, key.signingKey, { algorithm: "RS256", keyid: key.kid });
}

describe("verify(token)", () => {
  it("accepts the server's token and hands on who it is, fetching the keys once", async () => {
    const user = await registerUser(server.client);
    const check = verifier();
    asked.length = 0;
    const verified = await check.verify(user.accessToken);
    expect(verified).toMatchObject({ subject: user.user.id, sessionId: user.sessionId, roles: ["USER"] });
    expect(verified.expiresAt.getTime()).toBe(clock.now().getTime() + 15 * 60_000);
    await check.verify(user.accessToken);
    await check.verify((await registerUser(server.client)).accessToken);
    expect(asked).toEqual(["/.well-known/jwks.json"]);
  });

  it("pins the algorithm: alg none and HS256 keyed with the public key are refused before any key is used", async () => {
    const user = await registerUser(server.client);
    const { header, payload } = partsOf(user.accessToken);
    const none = `${b64({ ...header, alg: "none" })}.${b64(payload)}.`;
    expect(await refusal(verifier().verify(none))).toBe("malformed");
    const noneSigned = `${b64({ ...header, alg: "none" })}.${b64(payload)}.AA`;
    expect(await refusal(verifier().verify(noneSigned))).toBe("algorithm");
    const publicPem = server.app.keys.signerAt(clock.now()).verificationKey.export({ format: "pem", type: "spki" });
    const unsigned = `${b64({ ...header, alg: "HS256" })}.${b64(payload)}`;
    const confused = `${unsigned}.${crypto.createHmac("sha256", publicPem).update(unsigned).digest("base64url")}`;
    expect(await refusal(verifier().verify(confused))).toBe("algorithm");
  });

  it("pins iss and aud, and checks the signature and expiry", async () => {
    const user = await registerUser(server.client);
    expect(await refusal(verifier({ issuer: "https://other-issuer.example" }).verify(user.accessToken))).toBe("issuer");
    expect(await refusal(verifier({ audience: "another-service" }).verify(user.accessToken))).toBe("audience");

    const { payload } = partsOf(user.accessToken);
    expect(await refusal(verifier().verify(signedByServer({ ...payload, aud: "another-service" })))).toBe("audience");
    expect(await verifier().verify(signedByServer({ ...payload, aud: ["another-service", "agent-identity"] }))).toMatchObject({ subject: user.user.id });

    const [header, , signature] = user.accessToken.split(".") as [string, string, string];
    const elevated = `${header}.${b64({ ...payload, roles: ["ADMIN"] })}.${signature}`;
    expect(await refusal(verifier().verify(elevated))).toBe("signature");

    const forger = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const forged = jwt.sign(payload, forger, { algorithm: "RS256", keyid: partsOf(user.accessToken).header.kid as string });
    expect(await refusal(verifier().verify(forged))).toBe("signature");

    expect(await refusal(verifier().verify("not.a.jwt"))).toBe("malformed");
    expect(await refusal(verifier().verify(""))).toBe("missing");

    const later = verifier({ now: () => clock.now().getTime() + 15 * 60_000 });
    expect(await refusal(later.verify(user.accessToken))).toBe("expired");
    const lenient = verifier({ now: () => clock.now().getTime() + 15 * 60_000, clockToleranceMs: 1_000 });
    expect(await lenient.verify(user.accessToken)).toMatchObject({ subject: user.user.id });
  });

  it("refuses a token with a restriction, signed by the server or not", async () => {
    const { payload } = partsOf((await registerUser(server.client)).accessToken);
    const restricted = signedByServer({ ...payload, restriction: "mfa_enrollment" });
    expect(await refusal(verifier().verify(restricted))).toBe("restricted");
  });

  it("refuses a kid the server does not publish, with one key fetch however many arrive", async () => {
    const { payload } = partsOf((await registerUser(server.client)).accessToken);
    const check = verifier({ jwksMinRefetchMs: 30_000 });
    await check.verify(signedByServer(payload));
    const forger = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const made = () => Array.from({ length: 40 }, () => jwt.sign(payload, forger, { algorithm: "RS256", keyid: crypto.randomUUID() }));
    const flood = async () => new Set(await Promise.all(made().map((token) => refusal(check.verify(token)))));

    // Right after a fetch, an unknown kid fetches nothing.
    asked.length = 0;
    expect(await flood()).toEqual(new Set(["unknown_key"]));
    expect(asked).toEqual([]);
    // Once the interval has passed, the first unknown kid fetches the keys again; the rest share that fetch.
    clock.advance(30_000);
    expect(await flood()).toEqual(new Set(["unknown_key"]));
    expect(await flood()).toEqual(new Set(["unknown_key"]));
    expect(asked).toEqual(["/.well-known/jwks.json"]);
  });
});

describe("liveness through tokenStatus", () => {
  it("refuses a logged-out session once the cached answer is older than cacheMs; without liveness, the signature holds", async () => {
    const user = await registerUser(server.client);
    const live = verifier({ liveness: { cacheMs: 5_000 } });
    const signatureOnly = verifier();
    asked.length = 0;
    await live.verify(user.accessToken);
    await live.verify(user.accessToken);
    expect(asked.filter((path) => path === "/graphql")).toHaveLength(1);

    await server.client.ok(LogoutDocument, {}, as(user));
    // The answer from before the logout is reused inside its 5 s.
    clock.advance(4_000);
    expect(await live.verify(user.accessToken)).toMatchObject({ subject: user.user.id });
    clock.advance(1_000);
    expect(await refusal(live.verify(user.accessToken))).toBe("inactive");
    expect(await signatureOnly.verify(user.accessToken)).toMatchObject({ subject: user.user.id });
  });
});

describe("middleware()", () => {
  let service: ReturnType<ReturnType<typeof express>["listen"]>;
  let base: string;
  beforeAll(async () => {
    const app = express();
    app.get("/private", verifier({ liveness: true }).middleware(), (req, res) => {
      res.json({ subject: (req as { auth?: { subject: string } }).auth?.subject });
    });
    service = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => service.once("listening", resolve));
    base = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => service.close(resolve)));

  const get = (headers: Record<string, string> = {}) => fetch(`${base}/private`, { headers });

  it("lets a live token through with req.auth set", async () => {
    const user = await registerUser(server.client);
    const response = await get({ authorization: `Bearer ${user.accessToken}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: user.user.id });
  });

  it("answers 401 with a Bearer challenge that tells a client only what it can act on", async () => {
    const missing = await get();
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");

    const user = await registerUser(server.client);
    const [header, payload, signature] = user.accessToken.split(".") as [string, string, string];
    const tampered = await get({ authorization: `Bearer ${header}.${payload}x.${signature}` });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="invalid"');
    expect(await tampered.json()).toEqual({ error: "invalid_token", reason: "invalid" });

    expect((await get({ authorization: `Basic ${Buffer.from("a:b").toString("base64")}` })).status).toBe(401);

    await server.client.ok(LogoutDocument, {}, as(user));
    const ended = await get({ authorization: `Bearer ${user.accessToken}` });
    expect(ended.status).toBe(401);
    expect(await ended.json()).toEqual({ error: "invalid_token", reason: "invalid" });
  });
});
