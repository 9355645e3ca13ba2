import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** A fresh RSA private key, PEM (PKCS#8). */
export function rsaPrivateKeyPem(): string {
  return crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** The JWT_KEYS_DIR file name of a key that starts signing at `instant` (a whole UTC minute). */
export function keyFileName(instant: Date): string {
  if (instant.getTime() % 60_000 !== 0) throw new Error("key activation instants are whole minutes");
  const iso = instant.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}.pem`;
}

/** Writes a key into `dir` under the name for `instant`; returns the file's path. */
export function addKey(dir: string, instant: Date, pem = rsaPrivateKeyPem()): string {
  const file = path.join(dir, keyFileName(instant));
  fs.writeFileSync(file, pem, { mode: 0o600 });
  return file;
}

/** The `kid` in a JWT's header. */
export function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString("utf8")) as { kid?: string };
  return header.kid as string;
}
