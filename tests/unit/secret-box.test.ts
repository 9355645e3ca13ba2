import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseEncryptionKey, SecretBoxError } from "../../src/crypto/secret-box";

const key = () => crypto.randomBytes(32);

/** Rewrites one base64url part (index 2 iv, 3 tag, 4 ciphertext) of a sealed value. */
function alterPart(sealed: string, index: number, change: (bytes: Buffer) => void): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[index] as string, "base64url");
  change(bytes);
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

function openError(open: () => unknown): SecretBoxError {
  try {
    open();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError);
    return error as SecretBoxError;
  }
  throw new Error("expected open to throw");
}

describe("createSecretBox", () => {
  it("round-trips text, including empty and non-ASCII", () => {
    const box = createSecretBox(key());
    for (const plaintext of ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "", "päßwörd 🔐"]) {
      expect(box.open(box.seal(plaintext))).toBe(plaintext);
    }
  });

  it("writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a 12-byte IV and a 16-byte tag", () => {
    const sealed = createSecretBox(key(), "2026-01").seal("secret");
    const [version, keyId, iv, tag, ciphertext, ...rest] = sealed.split(".");
    expect([version, keyId, rest]).toEqual(["v1", "2026-01", []]);
    expect(Buffer.from(iv as string, "base64url")).toHaveLength(12);
    expect(Buffer.from(tag as string, "base64url")).toHaveLength(16);
    expect(Buffer.from(ciphertext as string, "base64url")).toHaveLength(6);
    expect(sealed).not.toContain("secret");
  });

  it("uses a fresh IV each time: sealing the same text twice differs", () => {
    const box = createSecretBox(key());
    const first = box.seal("same");
    const second = box.seal("same");
    expect(first).not.toBe(second);
    expect(first.split(".")[2]).not.toBe(second.split(".")[2]);
    expect(box.open(first)).toBe(box.open(second));
  });

  it("detects a flipped ciphertext byte", () => {
    const box = createSecretBox(key());
    const tampered = alterPart(box.seal("JBSWY3DPEHPK3PXP"), 4, (bytes) => {
      bytes[0] = (bytes[0] as number) ^ 0x01;
    });
    expect(openError(() => box.open(tampered)).message).toMatch(/failed authentication/);
  });

  it("detects a changed tag, a changed IV and a truncated tag", () => {
    const box = createSecretBox(key());
    const sealed = box.seal("JBSWY3DPEHPK3PXP");
    const changedTag = alterPart(sealed, 3, (bytes) => {
      bytes[15] = (bytes[15] as number) ^ 0x80;
    });
    expect(openError(() => box.open(changedTag)).message).toMatch(/failed authentication/);
    const changedIv = alterPart(sealed, 2, (bytes) => {
      bytes[0] = (bytes[0] as number) ^ 0x01;
    });
    expect(openError(() => box.open(changedIv)).message).toMatch(/failed authentication/);
    const parts = sealed.split(".");
    parts[3] = Buffer.from(parts[3] as string, "base64url").subarray(0, 12).toString("base64url");
    expect(openError(() => box.open(parts.join("."))).message).toMatch(/malformed/);
  });

  it("refuses a value relabelled to another key id, even when that key is the same", () => {
    const shared = key();
    const box = createSecretBox(shared, "k2", [{ keyId: "k1", key: shared }]);
    const sealed = box.seal("secret");
    expect(openError(() => box.open(sealed.replace(/^v1\.k2\./, "v1.k1."))).message).toMatch(/failed authentication/);
  });

  it("refuses a value sealed under a different key with the same id", () => {
    const sealed = createSecretBox(key(), "k1").seal("secret");
    expect(openError(() => createSecretBox(key(), "k1").open(sealed)).message).toMatch(/failed authentication/);
  });

  it("refuses an unknown key id", () => {
    const sealed = createSecretBox(key(), "k1").seal("secret");
    expect(openError(() => createSecretBox(key(), "k2").open(sealed)).message).toMatch(/unknown key id/);
  });

  it("refuses malformed values", () => {
    const box = createSecretBox(key());
    const sealed = box.seal("secret");
    for (const bad of ["", "v1", sealed.replace(/^v1/, "v2"), `${sealed}.extra`, sealed.replace(/\.([^.]*)$/, ".a+b/")]) {
      expect(openError(() => box.open(bad)).message).toMatch(/malformed|unknown key id/);
    }
  });

  it("rotates: opens values sealed with a previous key, seals with the current one", () => {
    const oldKey = key();
    const oldBox = createSecretBox(oldKey, "k1");
    const sealedBefore = oldBox.seal("before rotation");
    const newBox = createSecretBox(key(), "k2", [{ keyId: "k1", key: oldKey }]);
    expect(newBox.open(sealedBefore)).toBe("before rotation");
    const sealedAfter = newBox.seal("after rotation");
    expect(sealedAfter.startsWith("v1.k2.")).toBe(true);
    expect(newBox.open(sealedAfter)).toBe("after rotation");
    expect(openError(() => oldBox.open(sealedAfter)).message).toMatch(/unknown key id/);
  });

  it("is not affected by later changes to the caller's key buffer", () => {
    const bytes = key();
    const box = createSecretBox(bytes);
    const sealed = box.seal("secret");
    bytes.fill(0);
    expect(box.open(sealed)).toBe("secret");
  });

  it("refuses keys that are not 32 bytes, bad key ids and duplicate ids", () => {
    expect(() => createSecretBox(crypto.randomBytes(16))).toThrow(/exactly 32 bytes/);
    expect(() => createSecretBox(key(), "has.dot")).toThrow(/key ids/);
    expect(() => createSecretBox(key(), "k1", [{ keyId: "k1", key: key() }])).toThrow(/unique/);
    expect(() => createSecretBox(key(), "k2", [{ keyId: "k1", key: crypto.randomBytes(31) }])).toThrow(/exactly 32 bytes/);
  });
});

describe("parseEncryptionKey", () => {
  const bytes = crypto.randomBytes(32);

  it("accepts 64 hex characters, base64 with or without padding, and base64url", () => {
    expect(parseEncryptionKey(bytes.toString("hex"))).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString("hex").toUpperCase())).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString("base64"))).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString("base64").replace(/=+$/, ""))).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString("base64url"))).toEqual(bytes);
    expect(parseEncryptionKey(`  ${bytes.toString("base64")}\n`)).toEqual(bytes);
  });

  it("refuses other lengths, saying how many bytes it decoded", () => {
    expect(() => parseEncryptionKey(crypto.randomBytes(16).toString("base64"))).toThrow(/exactly 32 bytes; it decodes to 16/);
    expect(() => parseEncryptionKey(crypto.randomBytes(48).toString("base64"))).toThrow(/decodes to 48/);
    expect(() => parseEncryptionKey(crypto.randomBytes(31).toString("hex"))).toThrow(/exactly 32 bytes/);
  });

  it("refuses text that is neither hex nor base64, and a placeholder key", () => {
    expect(() => parseEncryptionKey("not a key!")).toThrow(/64 hex characters or base64/);
    expect(() => parseEncryptionKey("")).toThrow(/64 hex characters or base64/);
    expect(() => parseEncryptionKey("0".repeat(64))).toThrow(/repeated byte/);
  });

  it("never includes the key text in its message", () => {
    for (const text of [crypto.randomBytes(16).toString("base64"), `${crypto.randomBytes(32).toString("hex")}zz`]) {
      let message = "";
      try {
        parseEncryptionKey(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(text.slice(0, 8));
    }
  });
});
