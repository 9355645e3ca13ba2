import crypto, { type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../config/config";
import { readOrCreateKeyFile } from "../crypto/key-files";

/**
 * One key that signs access tokens, as KeyObjects (jsonwebtoken verifies ~40x faster with a
 * KeyObject than with a PEM string or Buffer). `chainKey` is a separate HMAC key derived from
 * the key's secret material; it derives refresh-token successors, so every process that holds
 * the key derives the same successor.
 */
export interface SigningKey {
  readonly kid: string;
  readonly signingKey: KeyObject;
  readonly verificationKey: KeyObject;
  readonly chainKey: Buffer;
  /** When the key starts signing; undefined for a lone key (it always signs). */
  readonly activeFrom: Date | undefined;
}

/**
 * Every key the server holds. One signs at a time (the latest activation not after now);
 * all of them verify, each under its `kid`, and all public keys are published, so tokens
 * signed before a rotation stay valid until they expire.
 */
export interface SigningKeys {
  readonly algorithm: "RS256" | "HS256";
  /** Oldest activation first. */
  readonly all: readonly SigningKey[];
  signerAt(now: Date): SigningKey;
  find(kid: string): SigningKey | undefined;
  /** Public keys for `/.well-known/jwks.json`; empty for HS256 (a shared secret is never published). */
  readonly jwks: { keys: Record<string, unknown>[] };
}

export interface SigningKeySource {
  jwtSecret?: string;
  privateKeyPem?: string;
  privateKeyFile?: string;
  /** A directory of RSA keys named for the instant each starts signing (see KEY_FILE_NAME). */
  keysDir?: string;
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

function rsaKey(privateKey: KeyObject, activeFrom: Date | undefined, name: string): SigningKey {
  if (privateKey.asymmetricKeyType !== "rsa") throw new ConfigError([`${name} must be an RSA private key (RS256)`]);
  const publicKey = crypto.createPublicKey(privateKey);
  return {
    kid: rsaThumbprint(publicKey),
    signingKey: privateKey,
    verificationKey: publicKey,
    chainKey: deriveChainKey(privateKey.export({ format: "der", type: "pkcs8" })),
    activeFrom,
  };
}

function rsaKeys(keys: SigningKey[]): SigningKeys {
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  const jwks = {
    keys: keys.map((key) => ({ ...key.verificationKey.export({ format: "jwk" }), kid: key.kid, alg: "RS256", use: "sig" })),
  };
  return {
    algorithm: "RS256",
    all: keys,
    signerAt: (now) => signerAt(keys, now),
    find: (kid) => byKid.get(kid),
    jwks,
  };
}

/** `keys` is sorted by activation; a lone key has none and always signs. */
function signerAt(keys: readonly SigningKey[], now: Date): SigningKey {
  let signer = keys[0] as SigningKey;
  for (const key of keys) {
    if (key.activeFrom && key.activeFrom.getTime() <= now.getTime()) signer = key;
  }
  return signer;
}

function fromSecret(secret: string): SigningKeys {
  const secretKey = crypto.createSecretKey(Buffer.from(secret, "utf8"));
  const key: SigningKey = {
    kid: crypto.createHash("sha256").update("kid:").update(secret).digest("base64url").slice(0, 16),
    signingKey: secretKey,
    verificationKey: secretKey,
    chainKey: deriveChainKey(Buffer.from(secret, "utf8")),
    activeFrom: undefined,
  };
  return { algorithm: "HS256", all: [key], signerAt: () => key, find: (kid) => (kid === key.kid ? key : undefined), jwks: { keys: [] } };
}

/** Generates an RSA key into `<dataDir>/keys/jwt-private.pem` on first start and reuses it after. */
function generatedKey(dataDir: string): KeyObject {
  const pem = readOrCreateKeyFile(path.join(dataDir, "keys", "jwt-private.pem"), () =>
    crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  );
  return crypto.createPrivateKey(pem);
}

/**
 * A key file in JWT_KEYS_DIR is named for the UTC instant it starts signing: `2026-12-03.pem`
 * (midnight) or `2026-12-03T1430.pem`. Names, unlike file times, read the same on every host,
 * so every process picks the same signer at the same instant.
 */
const KEY_FILE_NAME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(\d{2}))?\.pem$/;

function activationOf(name: string): Date | undefined {
  const match = KEY_FILE_NAME.exec(name);
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map((part) => part ?? "00") as [string, string, string, string, string];
  const instant = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)));
  // Date.UTC rolls 2026-02-30 over to March: a name that does not round-trip is not a date.
  const canonical = `${year}-${month}-${day}T${hour}:${minute}`;
  return instant.toISOString().startsWith(canonical) ? instant : undefined;
}

/** A problem with JWT_KEYS_DIR stops the start like a bad variable; it never quotes a key. */
function keysDirProblem(message: string): ConfigError {
  return new ConfigError([`JWT_KEYS_DIR: ${message}`]);
}

/**
 * Reads every key in `dir`. Entries starting with a dot are skipped (Kubernetes secret
 * volumes keep their `..data` links there); any other name must be a key file name, so a
 * misnamed key stops the start instead of being silently left out.
 */
function fromDirectory(dir: string, now: Date): SigningKeys {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => !name.startsWith("."));
  } catch {
    throw keysDirProblem(`cannot read the directory ${dir}`);
  }
  const keys: SigningKey[] = [];
  for (const name of names.sort()) {
    const activeFrom = activationOf(name);
    if (!activeFrom) {
      throw keysDirProblem(`"${name}" is not a key file name; name each key for the UTC instant it starts signing, YYYY-MM-DD.pem or YYYY-MM-DDTHHMM.pem`);
    }
    let privateKey: KeyObject;
    try {
      privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(dir, name), "utf8"));
    } catch {
      throw keysDirProblem(`${name} is not a readable PEM private key`);
    }
    const key = rsaKey(privateKey, activeFrom, `JWT_KEYS_DIR: ${name}`);
    if (keys.some((other) => other.kid === key.kid)) throw keysDirProblem(`${name} holds the same key as another file; keep one`);
    // Two keys starting together would leave the signer to chance.
    if (keys.some((other) => other.activeFrom?.getTime() === activeFrom.getTime())) {
      throw keysDirProblem(`${name} starts at the same instant as another key; give each its own`);
    }
    keys.push(key);
  }
  keys.sort((a, b) => (a.activeFrom as Date).getTime() - (b.activeFrom as Date).getTime());
  const first = keys[0];
  if (!first) throw keysDirProblem(`no key in ${dir}; add one named YYYY-MM-DD.pem`);
  if ((first.activeFrom as Date).getTime() > now.getTime()) {
    throw keysDirProblem(`no key signs yet; the earliest starts at ${(first.activeFrom as Date).toISOString()}`);
  }
  return rsaKeys(keys);
}

/** `now`: the start instant, to check that a key in JWT_KEYS_DIR is already active. */
export function loadSigningKeys(source: SigningKeySource, now: Date = new Date()): SigningKeys {
  if (source.jwtSecret) return fromSecret(source.jwtSecret);
  if (source.keysDir) return fromDirectory(source.keysDir, now);
  const lone = (privateKey: KeyObject, name: string) => rsaKeys([rsaKey(privateKey, undefined, name)]);
  if (source.privateKeyPem) return lone(crypto.createPrivateKey(source.privateKeyPem.replace(/\\n/g, "\n")), "JWT_PRIVATE_KEY");
  if (source.privateKeyFile) return lone(crypto.createPrivateKey(fs.readFileSync(source.privateKeyFile, "utf8")), "JWT_PRIVATE_KEY_FILE");
  return lone(generatedKey(source.dataDir), "the generated key");
}
