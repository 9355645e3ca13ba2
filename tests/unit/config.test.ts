import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config";
import { unknownRoleProblems } from "../../src/config/startup-checks";

const SECRET = "Xk9-this-is-a-long-jwt-secret-value-0123456789";

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

/** The variable each problem names ("PORT: ..." -> "PORT"). */
function named(error: ConfigError): string[] {
  return error.problems.map((problem) => problem.slice(0, problem.indexOf(":")));
}

describe("loadConfig defaults", () => {
  it("has working defaults for an empty environment", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(4000);
    expect(config.BCRYPT_COST).toBe(12);
    expect(config.ACCESS_TOKEN_TTL).toBe(15 * 60 * 1000);
    expect(config.SESSION_IDLE_TIMEOUT).toBe(7 * 86_400_000);
    expect(config.SESSION_ABSOLUTE_LIFETIME).toBe(30 * 86_400_000);
    expect(config.PUBLIC_URL).toBe("http://localhost:4000");
    expect(config.JWT_ISSUER).toBe("agent-identity");
    expect(config.CORS_ORIGINS).toEqual([]);
    expect(config.JWT_SECRET).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(path.isAbsolute(config.DATA_DIR)).toBe(true);
    expect(config.DATA_DIR).toBe(path.resolve("data"));
  });

  it("resolves a relative DATA_DIR to an absolute path", () => {
    expect(loadConfig({ DATA_DIR: "some/dir" }).DATA_DIR).toBe(path.resolve(process.cwd(), "some/dir"));
  });

  it("derives PUBLIC_URL from PORT, but never the issuer: processes on other ports share it", () => {
    const config = loadConfig({ PORT: "8080" });
    expect(config.PUBLIC_URL).toBe("http://localhost:8080");
    expect(config.JWT_ISSUER).toBe("agent-identity");
    expect(loadConfig({ PORT: "8081" }).JWT_ISSUER).toBe(config.JWT_ISSUER);
  });

  it("strips trailing slashes from PUBLIC_URL; an explicit JWT_ISSUER wins", () => {
    expect(loadConfig({ PUBLIC_URL: "https://id.example.com/" }).JWT_ISSUER).toBe("https://id.example.com");
    const config = loadConfig({ PUBLIC_URL: "https://id.example.com//", JWT_ISSUER: "urn:issuer" });
    expect(config.PUBLIC_URL).toBe("https://id.example.com");
    expect(config.JWT_ISSUER).toBe("urn:issuer");
  });

  it("points emailed links at the web app this server serves, unless APP_URL names another", () => {
    expect(loadConfig({}).APP_URL).toBe("http://localhost:4000/app");
    expect(loadConfig({ PUBLIC_URL: "https://id.example.com/" }).APP_URL).toBe("https://id.example.com/app");
    expect(loadConfig({ PUBLIC_URL: "https://id.example.com", APP_URL: "https://app.example.com/" }).APP_URL).toBe("https://app.example.com");
    expect(named(configError({ APP_URL: "app.example.com" }))).toEqual(["APP_URL"]);
  });

  it("parses durations and flags", () => {
    const config = loadConfig({ ACCESS_TOKEN_TTL: "5m", SESSION_IDLE_TIMEOUT: "2h", TRUST_PROXY: "yes", REFRESH_COOKIE_SECURE: "0" });
    expect(config.ACCESS_TOKEN_TTL).toBe(300_000);
    expect(config.SESSION_IDLE_TIMEOUT).toBe(7_200_000);
    expect(config.TRUST_PROXY).toBe(1);
    expect(config.REFRESH_COOKIE_SECURE).toBe(false);
  });

  it("reads TRUST_PROXY as no proxy, a hop count (true is one hop) or a list of proxy addresses", () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "2" }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 192.0.2.7,loopback, fd00::/8" }).TRUST_PROXY).toEqual([
      "10.0.0.0/8",
      "192.0.2.7",
      "loopback",
      "fd00::/8",
    ]);
    for (const bad of ["everything", "10.0.0.0/33", "10.0.0.300", "99", "*"]) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it("splits CORS_ORIGINS on commas, trimming and dropping empties", () => {
    expect(loadConfig({ CORS_ORIGINS: " https://a.example , https://b.example,, ," }).CORS_ORIGINS).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });

  it("treats empty-string variables as unset", () => {
    const config = loadConfig({
      PORT: "",
      BCRYPT_COST: "",
      ACCESS_TOKEN_TTL: "",
      JWT_SECRET: "",
      DATABASE_URL: "",
      PUBLIC_URL: "",
      LOG_LEVEL: "",
    });
    expect(config.PORT).toBe(4000);
    expect(config.BCRYPT_COST).toBe(12);
    expect(config.ACCESS_TOKEN_TTL).toBe(900_000);
    expect(config.JWT_SECRET).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PUBLIC_URL).toBe("http://localhost:4000");
    expect(config.LOG_LEVEL).toBe("info");
  });

  it("treats a whitespace-only secret as unset", () => {
    expect(loadConfig({ JWT_SECRET: "   " }).JWT_SECRET).toBeUndefined();
  });

  it("accepts a valid postgres DATABASE_URL and a 32-character JWT_SECRET", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://app:pw@db:5432/app", JWT_SECRET: "s".repeat(32) });
    expect(config.DATABASE_URL).toBe("postgres://app:pw@db:5432/app");
    expect(config.JWT_SECRET).toBe("s".repeat(32));
  });
});

describe("loadConfig errors", () => {
  it("reports every bad variable in one ConfigError", () => {
    const error = configError({
      PORT: "abc",
      BCRYPT_COST: "99",
      DATABASE_URL: "mysql://x",
      JWT_SECRET: "too-short",
    });
    expect(named(error).sort()).toEqual(["BCRYPT_COST", "DATABASE_URL", "JWT_SECRET", "PORT"]);
    expect(error.name).toBe("ConfigError");
    for (const name of ["PORT", "BCRYPT_COST", "DATABASE_URL", "JWT_SECRET"]) expect(error.message).toContain(name);
  });

  it("rejects out-of-range values", () => {
    expect(named(configError({ PORT: "70000" }))).toEqual(["PORT"]);
    expect(named(configError({ BCRYPT_COST: "3" }))).toEqual(["BCRYPT_COST"]);
    expect(named(configError({ JWT_SECRET: "s".repeat(31) }))).toEqual(["JWT_SECRET"]);
    expect(named(configError({ ACCESS_TOKEN_TTL: "5s" }))).toEqual(["ACCESS_TOKEN_TTL"]);
    expect(named(configError({ SESSION_IDLE_TIMEOUT: "1.5h" }))).toEqual(["SESSION_IDLE_TIMEOUT"]);
    expect(named(configError({ LOG_LEVEL: "verbose" }))).toEqual(["LOG_LEVEL"]);
  });

  it("reports conflicts between variables even when another variable fails to parse", () => {
    try {
      loadConfig({ PORT: "abc", LOG_LEVEL: "verbose", SESSION_IDLE_TIMEOUT: "31d" });
      expect.unreachable("loadConfig accepted a bad environment");
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/^PORT:/m);
      expect(problems).toMatch(/^LOG_LEVEL:/m);
      expect(problems).toMatch(/^SESSION_IDLE_TIMEOUT: must not exceed/m);
    }
  });

  it("refuses JWT_SECRET together with a private key", () => {
    expect(named(configError({ JWT_SECRET: SECRET, JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----" }))).toContain("JWT_SECRET");
    expect(named(configError({ JWT_SECRET: SECRET, JWT_PRIVATE_KEY_FILE: "/keys/jwt.pem" }))).toContain("JWT_SECRET");
    expect(named(configError({ JWT_SECRET: SECRET, JWT_KEYS_DIR: "/keys" }))).toContain("JWT_SECRET");
  });

  it("refuses JWT_KEYS_DIR together with a single private key", () => {
    expect(named(configError({ JWT_KEYS_DIR: "/keys", JWT_PRIVATE_KEY_FILE: "/keys/jwt.pem" }))).toEqual(["JWT_KEYS_DIR"]);
    expect(named(configError({ JWT_KEYS_DIR: "/keys", JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----" }))).toEqual(["JWT_KEYS_DIR"]);
    expect(loadConfig({ JWT_KEYS_DIR: "/keys" }).JWT_KEYS_DIR).toBe("/keys");
  });

  it("refuses SESSION_IDLE_TIMEOUT longer than SESSION_ABSOLUTE_LIFETIME", () => {
    expect(named(configError({ SESSION_IDLE_TIMEOUT: "31d", SESSION_ABSOLUTE_LIFETIME: "30d" }))).toEqual(["SESSION_IDLE_TIMEOUT"]);
    expect(loadConfig({ SESSION_IDLE_TIMEOUT: "30d", SESSION_ABSOLUTE_LIFETIME: "30d" }).SESSION_IDLE_TIMEOUT).toBe(30 * 86_400_000);
  });

  it("refuses ACCESS_TOKEN_TTL longer than SESSION_IDLE_TIMEOUT", () => {
    expect(named(configError({ ACCESS_TOKEN_TTL: "2h", SESSION_IDLE_TIMEOUT: "1h" }))).toEqual(["ACCESS_TOKEN_TTL"]);
    expect(loadConfig({ ACCESS_TOKEN_TTL: "1h", SESSION_IDLE_TIMEOUT: "1h" }).ACCESS_TOKEN_TTL).toBe(3_600_000);
  });

  it("requires BOOTSTRAP_ADMIN_EMAIL when BOOTSTRAP_ADMIN_PASSWORD is set", () => {
    expect(named(configError({ BOOTSTRAP_ADMIN_PASSWORD: "Initial-Passw0rd" }))).toEqual(["BOOTSTRAP_ADMIN_EMAIL"]);
    const config = loadConfig({ BOOTSTRAP_ADMIN_PASSWORD: "Initial-Passw0rd", BOOTSTRAP_ADMIN_EMAIL: "admin@example.com" });
    expect(config.BOOTSTRAP_ADMIN_EMAIL).toBe("admin@example.com");
  });

  it("never puts the JWT_SECRET value in the error", () => {
    const short = "Zz7-short-secret-9";
    const tooShort = configError({ JWT_SECRET: short });
    expect(tooShort.message).not.toContain(short);
    expect(tooShort.problems.join("\n")).not.toContain(short);

    const conflict = configError({ JWT_SECRET: SECRET, JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----" });
    expect(conflict.message).not.toContain(SECRET);
  });

  it("never puts a DATABASE_URL password in the error", () => {
    const password = "Hunt3r2-db-pass";
    for (const url of [`mysql://app:${password}@db.internal/app`, `postgres://app:${password}@db internal/app`, `app:${password}@db`]) {
      const error = configError({ DATABASE_URL: url });
      expect(named(error)).toEqual(["DATABASE_URL"]);
      expect(error.message).not.toContain(password);
    }
  });
});

describe("loadConfig refuses mistakes that would silently weaken the server", () => {
  it("refuses malformed role names in MFA_REQUIRED_ROLES, naming the variable", () => {
    expect(named(configError({ MFA_REQUIRED_ROLES: "admin" }))).toEqual(["MFA_REQUIRED_ROLES"]);
    expect(named(configError({ MFA_REQUIRED_ROLES: "ADMIN,,MANAGER-X" }))).toEqual(["MFA_REQUIRED_ROLES"]);
    expect(named(configError({ MFA_REQUIRED_ROLES: " , " }))).toEqual(["MFA_REQUIRED_ROLES"]);
    expect(loadConfig({ MFA_REQUIRED_ROLES: "ADMIN, MANAGER" }).MFA_REQUIRED_ROLES).toEqual(["ADMIN", "MANAGER"]);
    expect(loadConfig({ MFA_REQUIRED_ROLES: "none" }).MFA_REQUIRED_ROLES).toEqual([]);
  });

  it("refuses CORS_ORIGINS entries that are not http(s) origins, naming each", () => {
    for (const bad of ["notaurl", "https://app.example.com/", "https://app.example.com/path", "ftp://app.example.com", "app.example.com:443", "https://user@app.example.com"]) {
      const error = configError({ CORS_ORIGINS: `https://ok.example, ${bad}` });
      expect(named(error), bad).toEqual(["CORS_ORIGINS"]);
      expect(error.problems[0]).toContain(`"${bad}"`);
    }
    expect(loadConfig({ CORS_ORIGINS: "http://localhost:5173,https://app.example.com" }).CORS_ORIGINS).toEqual([
      "http://localhost:5173",
      "https://app.example.com",
    ]);
  });

  it("refuses a PUBLIC_URL that is not an http(s) URL", () => {
    for (const bad of ["localhost:4118", "notaurl", "ftp://id.example.com", "https://id.example.com/?a=1", "https://id.example.com/#x"]) {
      expect(named(configError({ PUBLIC_URL: bad })), bad).toEqual(["PUBLIC_URL"]);
    }
    expect(loadConfig({ PUBLIC_URL: "https://example.com/identity/" }).PUBLIC_URL).toBe("https://example.com/identity");
  });

  it("checks role names against the roles that exist once the database is open", () => {
    const known = ["USER", "MANAGER", "COMPLIANCE_OFFICER", "ADMIN", "AUDITOR"];
    expect(unknownRoleProblems(["ADMINN", "AUDITOR", "OPS"], known)).toEqual([
      "MFA_REQUIRED_ROLES: unknown roles ADMINN, OPS (roles: USER, MANAGER, COMPLIANCE_OFFICER, ADMIN, AUDITOR)",
    ]);
    expect(unknownRoleProblems(["ADMIN", "AUDITOR"], known)).toEqual([]);
  });
});

describe("mail transport settings", () => {
  const smtp = { SMTP_HOST: "smtp.example.com", SMTP_FROM_EMAIL: "no-reply@example.com" };

  it("refuses Postmark and SMTP together, naming both", () => {
    const error = configError({ POSTMARK_SERVER_TOKEN: "postmark-token", ...smtp });
    expect(named(error)).toEqual(["SMTP_HOST"]);
    expect(error.message).toContain("set POSTMARK_SERVER_TOKEN or SMTP_HOST (one mail transport), not both");
  });

  it("refuses SMTP settings without SMTP_HOST, a username without a password, a name without an address", () => {
    expect(named(configError({ SMTP_USERNAME: "u", SMTP_PASSWORD: "p", SMTP_FROM_EMAIL: "a@example.com" })).sort()).toEqual([
      "SMTP_FROM_EMAIL",
      "SMTP_PASSWORD",
      "SMTP_USERNAME",
    ]);
    expect(named(configError({ ...smtp, SMTP_USERNAME: "u" }))).toEqual(["SMTP_PASSWORD"]);
    expect(named(configError({ SMTP_HOST: "smtp.example.com", SMTP_FROM_NAME: "Agent Identity" }))).toEqual(["SMTP_FROM_NAME"]);
    expect(named(configError({ ...smtp, SMTP_FROM_EMAIL: "not-an-address" }))).toEqual(["SMTP_FROM_EMAIL"]);
    expect(named(configError({ ...smtp, SMTP_FROM_NAME: "Evil\r\nBcc: victim@example.com" }))).toEqual(["SMTP_FROM_NAME"]);
    expect(named(configError({ ...smtp, SMTP_SECURITY: "ssl" }))).toEqual(["SMTP_SECURITY"]);
  });

  it("never puts SMTP_PASSWORD in an error", () => {
    const error = configError({ SMTP_PASSWORD: "hunter2-smtp-secret" });
    expect(error.message).not.toContain("hunter2-smtp-secret");
  });

  it("requires STARTTLS by default and speaks TLS from the start on port 465", () => {
    expect(loadConfig(smtp)).toMatchObject({ SMTP_PORT: 587, SMTP_SECURITY: "starttls", SMTP_TIMEOUT: 10_000 });
    expect(loadConfig({ ...smtp, SMTP_PORT: "465" }).SMTP_SECURITY).toBe("tls");
    expect(loadConfig({ ...smtp, SMTP_PORT: "25", SMTP_SECURITY: "none" }).SMTP_SECURITY).toBe("none");
  });
});
