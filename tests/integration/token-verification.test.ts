import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../generated/graphql";
import { registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header as string, "base64url").toString()),
    payload: JSON.parse(Buffer.from(payload as string, "base64url").toString()),
  };
}

describe("access tokens (RS256, the default)", () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof registerUser>>;
  beforeAll(async () => {
    server = await startTestServer();
    user = await registerUser(server.client);
  });
  afterAll(() => server.close());

  const me = (token: string) => server.client.request(MeDocument, {}, { token });

  it("carries sub, sid, jti, roles, iss, aud and a kid that JWKS publishes", async () => {
    const { header, payload } = decode(user.accessToken);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload).toMatchObject({ sub: user.user.id, sid: user.sessionId, roles: ["USER"], aud: "agent-identity" });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.iss).toEqual(expect.any(String));

    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    const published = jwks.keys.find((key) => key.kid === header.kid);
    expect(published).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(published).not.toHaveProperty("d");
    const publicKey = crypto.createPublicKey({ key: published as crypto.JsonWebKey, format: "jwk" });
    expect(() => jwt.verify(user.accessToken, publicKey, { algorithms: ["RS256"], audience: "agent-identity" })).not.toThrow();
  });

  it("refuses a token whose payload was altered", async () => {
    const [header, , signature] = user.accessToken.split(".");
    const payload = { ...decode(user.accessToken).payload, roles: ["USER", "ADMIN"] };
    const response = await me(`${header}.${b64(payload)}.${signature}`);
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
  });

  it("refuses alg: none", async () => {
    const { header, payload } = decode(user.accessToken);
    const response = await me(`${b64({ alg: "none", typ: "JWT", kid: header.kid })}.${b64(payload)}.`);
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
  });

  it("refuses HS256 signed with the public key (algorithm confusion)", async () => {
    const pem = server.app.keys.all[0]!.verificationKey.export({ format: "pem", type: "spki" });
    const { payload } = decode(user.accessToken);
    const unsigned = `${b64({ alg: "HS256", typ: "JWT", kid: decode(user.accessToken).header.kid })}.${b64(payload)}`;
    const signature = crypto.createHmac("sha256", pem).update(unsigned).digest("base64url");
    expect(errorCode(await me(`${unsigned}.${signature}`))).toBe("UNAUTHENTICATED");
  });

  it("refuses a wrong audience or issuer, even when signed with the server's own key", async () => {
    const { payload } = decode(user.accessToken);
    const { aud, iss, ...claims } = payload;
    const keyid = decode(user.accessToken).header.kid as string;
    const sign = (options: jwt.SignOptions) => jwt.sign(claims, server.app.keys.all[0]!.signingKey, { algorithm: "RS256", keyid, ...options });
    expect(errorCode(await me(sign({ audience: "another-service", issuer: iss as string })))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(sign({ audience: aud as string, issuer: "https://evil.example" })))).toBe("UNAUTHENTICATED");
    // The same claims with the right audience and issuer pass: the refusals above are about aud and iss.
    expect((await me(sign({ audience: aud as string, issuer: iss as string }))).data?.me?.id).toBe(user.user.id);
  });

  it("refuses an expired token with a message that says so", async () => {
    const { payload } = decode(user.accessToken);
    const { aud, iss, ...claims } = payload;
    const expired = jwt.sign(
      { ...claims, iat: Math.floor(Date.now() / 1000) - 3_600, exp: Math.floor(Date.now() / 1000) - 60 },
      server.app.keys.all[0]!.signingKey,
      { algorithm: "RS256", keyid: decode(user.accessToken).header.kid as string, audience: aud as string, issuer: iss as string },
    );
    const response = await me(expired);
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
    expect(response.errors?.[0]?.message).toMatch(/expired/i);
  });

  it("refuses a token signed by another key, garbage, and other schemes", async () => {
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const { payload } = decode(user.accessToken);
    const { aud, iss, ...claims } = payload;
    // Under the server's own kid, so the signature is what refuses it.
    const keyid = decode(user.accessToken).header.kid as string;
    const forged = jwt.sign(claims, privateKey, { algorithm: "RS256", keyid, audience: aud as string, issuer: iss as string });
    expect(errorCode(await me(forged))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me("not-a-jwt"))).toBe("UNAUTHENTICATED");
    const basic = await server.client.request(MeDocument, {}, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(errorCode(basic)).toBe("UNAUTHENTICATED");
  });
});

describe("access tokens with JWT_SECRET (HS256)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: "a-test-secret-that-is-long-enough-0123456789" } });
  });
  afterAll(() => server.close());

  it("signs HS256, publishes no key, and refuses tokens made with another secret", async () => {
    const user = await registerUser(server.client);
    const { header, payload } = decode(user.accessToken);
    expect(header.alg).toBe("HS256");
    expect((await server.client.ok(MeDocument, {}, { token: user.accessToken })).me?.id).toBe(user.user.id);

    const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
    expect(jwks).toEqual({ keys: [] });

    const { aud, iss, ...claims } = payload;
    const forged = jwt.sign(claims, "another-secret-another-secret-another-secret", {
      algorithm: "HS256",
      keyid: header.kid as string,
      audience: aud as string,
      issuer: iss as string,
    });
    expect(errorCode(await server.client.request(MeDocument, {}, { token: forged }))).toBe("UNAUTHENTICATED");
  });
});
