import crypto, { type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { readOrCreateKeyFile } from "../crypto/key-files";

/**
 * The keys that sign access tokens, as KeyObjects (jsonwebtoken verifies ~40x faster with a
 * KeyObject than with a PEM string or Buffer). `chainKey` is a separate HMAC key derived from
 * the signing secret; it derives refresh-token successors, so every process that shares the
 * signing key derives the same successor.
 */
export interface SigningKeys {
  readonly algorithm: "RS256" | "HS256";
  readonly kid: string;
  readonly signingKey: KeyObject;
  readonly verificationKey: KeyObject;
  readonly chainKey: Buffer;
  /** Public keys for `/.well-known/jwks.json`; empty for HS256 (a shared secret is never published). */
  readonly jwks: { keys: Record<string, unknown>[] };
}

export interface SigningKeySource {
  jwtSecret?: string;
  privateKeyPem?: string;
  privateKeyFile?: string;
  dataDir: string;
}

function deriveChainKey(material: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", material, "agent-identity", "refresh-token-chain", 32));
}

/** RFC 7638 thumbprint of an RSA public key: a stable `kid` that changes only with the key. */
function rsaThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return crypto.createHash("sha256").update(canonical).digest("base64url");
}

function fromPrivateKey(privateKey: KeyObject): SigningKeys {
  if (privateKey.asymmetricKeyType !== "rsa") {
    throw new Error("JWT private key must be an RSA key (RS256)");
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const kid = rsaThumbprint(publicKey);
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  return {
    algorithm: "RS256",
    kid,
    signingKey: privateKey,
    verificationKey: publicKey,
    chainKey: deriveChainKey(der),
    jwks: { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] },
  };
}

function fromSecret(secret: string): SigningKeys {
  const key = crypto.createSecretKey(Buffer.from(secret, "utf8"));
  const kid = crypto.createHash("sha256").update("kid:").update(secret).digest("base64url").slice(0, 16);
  return {
    algorithm: "HS256",
    kid,
    signingKey: key,
    verificationKey: key,
    chainKey: deriveChainKey(Buffer.from(secret, "utf8")),
    jwks: { keys: [] },
  };
}

/** Generates an RSA key into `<dataDir>/keys/jwt-private.pem` on first start and reuses it after. */
function generatedKey(dataDir: string): KeyObject {
  const pem = readOrCreateKeyFile(path.join(dataDir, "keys", "jwt-private.pem"), () =>
    crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  );
  return crypto.createPrivateKey(pem);
}

export function loadSigningKeys(source: SigningKeySource): SigningKeys {
  if (source.jwtSecret) return fromSecret(source.jwtSecret);
  if (source.privateKeyPem) return fromPrivateKey(crypto.createPrivateKey(source.privateKeyPem.replace(/\\n/g, "\n")));
  if (source.privateKeyFile) return fromPrivateKey(crypto.createPrivateKey(fs.readFileSync(source.privateKeyFile, "utf8")));
  return fromPrivateKey(generatedKey(source.dataDir));
}
