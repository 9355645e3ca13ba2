import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config";
import { loadSigningKeys } from "../../src/auth/signing-keys";

const pem = () => crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A JWT_KEYS_DIR holding `files` (name to PEM text). */
function keysDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keys-dir-test-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const load = (dir: string, now: string) => loadSigningKeys({ keysDir: dir, dataDir: "/tmp/unused" }, new Date(now));

function problem(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("JWT_KEYS_DIR", () => {
  it("signs with the key whose named instant is the latest not after now, and publishes every key", () => {
    const dir = keysDir({ "2026-01-01.pem": pem(), "2026-03-01.pem": pem(), "2026-03-01T1230.pem": pem() });
    const keys = load(dir, "2026-02-01T00:00:00Z");
    const [january, march, marchNoon] = keys.all;
    expect(keys.all.map((key) => key.activeFrom?.toISOString())).toEqual([
      "2026-01-01T00:00:00.000Z",
      "2026-03-01T00:00:00.000Z",
      "2026-03-01T12:30:00.000Z",
    ]);
    expect(keys.signerAt(new Date("2026-02-28T23:59:59Z"))).toBe(january);
    expect(keys.signerAt(new Date("2026-03-01T00:00:00Z"))).toBe(march);
    expect(keys.signerAt(new Date("2026-03-01T12:29:59Z"))).toBe(march);
    expect(keys.signerAt(new Date("2026-03-01T12:30:00Z"))).toBe(marchNoon);
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual(keys.all.map((key) => key.kid));
    expect(keys.jwks.keys.every((key) => !("d" in key) && key.alg === "RS256" && key.use === "sig")).toBe(true);
    for (const key of keys.all) expect(keys.find(key.kid)).toBe(key);
    expect(keys.find("unknown")).toBeUndefined();
  });

  it("gives the same kids and chain keys to every process that reads the same files", () => {
    const dir = keysDir({ "2026-01-01.pem": pem(), "2026-02-01.pem": pem() });
    const one = load(dir, "2026-01-15T00:00:00Z");
    const other = load(dir, "2026-02-15T00:00:00Z");
    expect(other.all.map((key) => key.kid)).toEqual(one.all.map((key) => key.kid));
    expect(other.all.map((key) => key.chainKey.toString("hex"))).toEqual(one.all.map((key) => key.chainKey.toString("hex")));
  });

  it("skips dot entries (a Kubernetes secret volume's ..data) and names any other stray file", () => {
    const dir = keysDir({ "2026-01-01.pem": pem(), "..data": "", ".hidden": "" });
    expect(load(dir, "2026-01-02T00:00:00Z").all).toHaveLength(1);
    fs.writeFileSync(path.join(dir, "new-key.pem"), pem());
    expect(problem(() => load(dir, "2026-01-02T00:00:00Z"))).toMatch(/JWT_KEYS_DIR: "new-key.pem" is not a key file name.*YYYY-MM-DD\.pem/);
  });

  it("refuses impossible dates, unreadable keys, non-RSA keys, duplicates, ties, and an empty or missing directory", () => {
    expect(problem(() => load(keysDir({ "2026-02-30.pem": pem() }), "2027-01-01T00:00:00Z"))).toContain('"2026-02-30.pem" is not a key file name');
    expect(problem(() => load(keysDir({ "2026-01-01T2460.pem": pem() }), "2027-01-01T00:00:00Z"))).toContain("is not a key file name");
    const garbage = problem(() => load(keysDir({ "2026-01-01.pem": "not a key" }), "2027-01-01T00:00:00Z"));
    expect(garbage).toContain("2026-01-01.pem is not a readable PEM private key");
    const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(problem(() => load(keysDir({ "2026-01-01.pem": ec }), "2027-01-01T00:00:00Z"))).toContain("must be an RSA private key");
    const same = pem();
    expect(problem(() => load(keysDir({ "2026-01-01.pem": same, "2026-02-01.pem": same }), "2027-01-01T00:00:00Z"))).toContain(
      "holds the same key as another file",
    );
    expect(problem(() => load(keysDir({ "2026-01-01.pem": pem(), "2026-01-01T0000.pem": pem() }), "2027-01-01T00:00:00Z"))).toContain(
      "starts at the same instant as another key",
    );
    expect(problem(() => load(keysDir({}), "2027-01-01T00:00:00Z"))).toContain("no key in");
    expect(problem(() => load(path.join(os.tmpdir(), "no-such-keys-dir"), "2027-01-01T00:00:00Z"))).toContain("cannot read the directory");
  });

  it("refuses to start when no key signs yet, naming when the first one will", () => {
    const dir = keysDir({ "2026-06-01.pem": pem() });
    expect(problem(() => load(dir, "2026-05-31T23:59:00Z"))).toContain("no key signs yet; the earliest starts at 2026-06-01T00:00:00.000Z");
  });

  it("never quotes key material in a problem", () => {
    const text = pem();
    const message = problem(() => load(keysDir({ "oops.pem": text }), "2027-01-01T00:00:00Z"));
    expect(message).not.toContain(text.split("\n")[1]);
  });
});

describe("a lone key", () => {
  it("always signs (generated, or from JWT_PRIVATE_KEY), whatever the instant", () => {
    const keys = loadSigningKeys({ privateKeyPem: pem(), dataDir: "/tmp/unused" });
    expect(keys.all).toHaveLength(1);
    expect(keys.signerAt(new Date(0))).toBe(keys.all[0]);
    expect(keys.signerAt(new Date("2999-01-01T00:00:00Z"))).toBe(keys.all[0]);
  });
});
