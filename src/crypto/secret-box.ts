import crypto from "node:crypto";

/**
 * Authenticated encryption for small secrets at rest (TOTP secrets): AES-256-GCM with a fresh
 * random 12-byte IV per value. Sealed values read `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url parts); the `v1.<keyId>` header is bound as additional data, so relabelling a
 * value fails like any other tampering. Keys rotate by sealing with the current key while
 * still opening values sealed under `previous` keys.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

/** A sealed value cannot be opened: malformed, unknown key id, or failed authentication. */
export class SecretBoxError extends Error {
  override readonly name = "SecretBoxError";
}

const VERSION = "v1";
const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function createSecretBox(
  key: Buffer,
  keyId = "k1",
  previous: { keyId: string; key: Buffer }[] = [],
): SecretBox {
  const keys = new Map<string, Buffer>();
  for (const entry of [{ keyId, key }, ...previous]) {
    if (!KEY_ID.test(entry.keyId)) {
      throw new Error("Secret box key ids must be 1 to 64 characters of letters, digits, '_' or '-'");
    }
    if (!Buffer.isBuffer(entry.key) || entry.key.length !== KEY_BYTES) {
      throw new Error(`Secret box keys must be exactly ${KEY_BYTES} bytes`);
    }
    if (keys.has(entry.keyId)) throw new Error("Secret box key ids must be unique");
    keys.set(entry.keyId, Buffer.from(entry.key));
  }
  const currentKey = keys.get(keyId) as Buffer;

  return {
    seal(plaintext) {
      const header = `${VERSION}.${keyId}`;
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(header, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"));
      return [header, ...parts].join(".");
    },

    open(sealed) {
      const parts = sealed.split(".");
      if (parts.length !== 5 || parts[0] !== VERSION || !parts.slice(2).every((part) => BASE64URL.test(part))) {
        throw new SecretBoxError("Sealed value is malformed");
      }
      const [version, id, ivText, tagText, ciphertextText] = parts as [string, string, string, string, string];
      const key = keys.get(id);
      if (!key) throw new SecretBoxError("Sealed value uses an unknown key id");
      const iv = Buffer.from(ivText, "base64url");
      const tag = Buffer.from(tagText, "base64url");
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError("Sealed value is malformed");
      try {
        const decipher = crypto.createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(`${version}.${id}`, "utf8"));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertextText, "base64url")), decipher.final()]);
        return plaintext.toString("utf8");
      } catch {
        throw new SecretBoxError("Sealed value failed authentication (tampered, or sealed with a different key)");
      }
    },
  };
}

/**
 * Reads a configured 256-bit key: 64 hex characters, or base64 / base64url (padding
 * optional). The message says what is wrong and never includes the key text.
 */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    key = Buffer.from(trimmed, "hex");
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    key = Buffer.from(trimmed.replace(/=+$/, ""), "base64");
  } else {
    throw new Error("Encryption key must be 64 hex characters or base64/base64url text encoding 32 bytes");
  }
  if (key.length !== KEY_BYTES) {
    throw new Error(`Encryption key must be exactly ${KEY_BYTES} bytes; it decodes to ${key.length}`);
  }
  if (key.every((byte) => byte === key[0])) {
    throw new Error("Encryption key is one repeated byte (a placeholder?); generate one with `openssl rand -base64 32`");
  }
  return key;
}
