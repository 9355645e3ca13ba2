import path from "node:path";
import { z } from "zod";
import { ROLE_NAME_PATTERN } from "../auth/roles";
import { parseDurationMs } from "./duration";
import { parseTrustProxy } from "./trust-proxy";

/**
 * The one place that reads the environment. Parsed once at boot; every bad variable is
 * named in one error so an operator fixes them all in one go. Nothing else reads process.env.
 */
export type Config = ReturnType<typeof derive>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const optionalString = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value ? value : undefined));

function duration(defaultValue: string, minMs: number, maxMs: number) {
  return z
    .string()
    .default(defaultValue)
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined || ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: "custom",
          message: `expected a duration like "900", "15m", "12h" or "30d" between ${minMs / 1000}s and ${maxMs / 1000}s, got "${text}"`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

function integer(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

const booleanFlag = (defaultValue: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(defaultValue ? "true" : "false")
    .transform((value) => value === "true" || value === "1" || value === "yes");

const DAY = 86_400_000;

const fieldsSchema = z.object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: integer(4000, 0, 65535),
    HOST: z.string().default("0.0.0.0"),
    DATA_DIR: z.string().default("./data"),
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    DATABASE_POOL_MAX: integer(10, 1, 200),
    /** How long opening a PostgreSQL connection may take before the request fails. */
    DATABASE_CONNECT_TIMEOUT: duration("5s", 100, 120_000),
    /** Longest a statement may run, or a transaction sit idle, before PostgreSQL ends it. */
    DATABASE_STATEMENT_TIMEOUT: duration("10s", 100, 3_600_000),
    REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
    /** Deadline of every Redis call (connection wait included): past it, SERVICE_UNAVAILABLE. */
    REDIS_TIMEOUT: duration("1s", 50, 60_000),
    REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, "letters, digits and : _ . - only").default("ais:"),
    POSTMARK_SERVER_TOKEN: optionalString,
    POSTMARK_API_URL: optionalString.pipe(z.url().optional()),
    EMAIL_FROM: z.string().default("Agent Identity <no-reply@localhost>"),
    SMTP_HOST: optionalString,
    SMTP_PORT: integer(587, 1, 65535),
    /** starttls (required, the default), tls (from the first byte; the default on port 465), or none. */
    SMTP_SECURITY: z.enum(["starttls", "tls", "none"]).optional(),
    SMTP_USERNAME: optionalString,
    SMTP_PASSWORD: optionalString,
    SMTP_FROM_EMAIL: optionalString.pipe(z.email().optional()),
    SMTP_FROM_NAME: optionalString.pipe(z.string().regex(/^[^\p{Cc}]*$/u, "must not hold control characters").optional()),
    /** Deadline of connecting to the SMTP server, of its greeting, and of any silence after. */
    SMTP_TIMEOUT: duration("10s", 100, 120_000),
    PUBLIC_URL: optionalString.transform((value, ctx) => {
      if (value === undefined || isHttpUrl(value)) return value;
      ctx.addIssue({ code: "custom", message: `expected an http(s) URL like "https://id.example.com", got "${value}"` });
      return z.NEVER;
    }),
    /** Base of the web app the emailed links open (default: PUBLIC_URL + /app, the app this server serves). */
    APP_URL: optionalString.transform((value, ctx) => {
      if (value === undefined || isHttpUrl(value)) return value;
      ctx.addIssue({ code: "custom", message: `expected an http(s) URL like "https://app.example.com", got "${value}"` });
      return z.NEVER;
    }),
    BOOTSTRAP_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    BOOTSTRAP_ADMIN_PASSWORD: optionalString,
    JWT_SECRET: optionalString.pipe(
      z.string().min(32, "must be at least 32 characters (256 bits)").optional(),
    ),
    JWT_PRIVATE_KEY: optionalString,
    JWT_PRIVATE_KEY_FILE: optionalString,
    /** A directory of RSA keys named for the UTC instant each starts signing (rotation). */
    JWT_KEYS_DIR: optionalString,
    JWT_ISSUER: optionalString,
    JWT_AUDIENCE: z.string().default("agent-identity"),
    ACCESS_TOKEN_TTL: duration("15m", 10_000, DAY),
    REFRESH_REUSE_GRACE: duration("10s", 0, 300_000),
    SESSION_IDLE_TIMEOUT: duration("7d", 60_000, 365 * DAY),
    SESSION_ABSOLUTE_LIFETIME: duration("30d", 60_000, 365 * DAY),
    BCRYPT_COST: integer(12, 4, 16),
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((value, ctx) => {
        const origins = value
          .split(",")
          .map((origin) => origin.trim())
          .filter(Boolean);
        const malformed = origins.filter((origin) => !isOrigin(origin));
        if (malformed.length > 0) {
          ctx.addIssue({
            code: "custom",
            message: `not an origin: ${malformed.map((origin) => `"${origin}"`).join(", ")}; expected scheme://host[:port] with http or https, no path`,
          });
          return z.NEVER;
        }
        return origins;
      }),
    /** Which hops may name the client in X-Forwarded-For: false, true (one hop), N hops, or proxy addresses/CIDRs. */
    TRUST_PROXY: z
      .string()
      .default("false")
      .transform((text, ctx) => {
        const parsed = parseTrustProxy(text);
        if (parsed.ok) return parsed.value;
        ctx.addIssue({ code: "custom", message: parsed.message });
        return z.NEVER;
      }),
    REFRESH_COOKIE_SECURE: booleanFlag(true),
    /** Schema introspection (the IDE's docs and autocompletion need it); off hides the schema. */
    INTROSPECTION: booleanFlag(true),
    /** Serve Prometheus metrics at /metrics. */
    METRICS_ENABLED: booleanFlag(true),
    /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    SHUTDOWN_TIMEOUT: duration("10s", 0, 120_000),
    MAX_REQUEST_BYTES: integer(102_400, 1_024, 10_485_760),
    PASSWORD_MIN_LENGTH: integer(10, 8, 64),
    PASSWORD_REQUIRE_CLASSES: z
      .string()
      .default("")
      .transform((value, ctx) => {
        const classes = value.split(",").map((name) => name.trim()).filter(Boolean);
        const unknown = classes.filter((name) => !["lower", "upper", "digit", "symbol"].includes(name));
        if (unknown.length > 0) {
          ctx.addIssue({ code: "custom", message: `unknown classes ${unknown.join(", ")}; use lower, upper, digit, symbol` });
          return z.NEVER;
        }
        return classes as ("lower" | "upper" | "digit" | "symbol")[];
      }),
    PASSWORD_FORBID_COMMON: booleanFlag(true),
    PASSWORD_HISTORY: integer(5, 0, 24),
    PASSWORD_MAX_AGE: z
      .string()
      .default("0")
      .transform((text, ctx) => {
        const ms = parseDurationMs(text);
        if (ms === undefined) {
          ctx.addIssue({ code: "custom", message: `expected 0 (off) or a duration like "90d", got "${text}"` });
          return z.NEVER;
        }
        return ms;
      }),
    REQUIRE_VERIFIED_EMAIL: booleanFlag(false),
    EMAIL_VERIFICATION_TTL: duration("24h", 60_000, 30 * DAY),
    PASSWORD_RESET_TTL: duration("1h", 60_000, DAY),
    MFA_ENCRYPTION_KEY: optionalString,
    /** Roles whose holders must use MFA, comma-separated; "none" for nobody. */
    MFA_REQUIRED_ROLES: z
      .string()
      .default("ADMIN")
      .transform((value, ctx) => {
        if (value.trim().toLowerCase() === "none") return [];
        const names = value
          .split(",")
          .map((role) => role.trim())
          .filter(Boolean);
        const malformed = names.filter((name) => !ROLE_NAME_PATTERN.test(name));
        if (names.length === 0 || malformed.length > 0) {
          ctx.addIssue({
            code: "custom",
            message: `expected role names in upper snake case (e.g. ADMIN,MANAGER) or "none", got "${value}"`,
          });
          return z.NEVER;
        }
        // Whether each name is a role is checked once the database is open (custom roles live there).
        return names;
      }),
    MFA_ISSUER: z.string().default("Agent Identity"),
    MFA_CHALLENGE_TTL: duration("5m", 30_000, 3_600_000),
    LOCKOUT_THRESHOLD: integer(5, 1, 100),
    LOCKOUT_BASE: duration("15m", 1_000, DAY),
    LOCKOUT_MAX: duration("24h", 1_000, 30 * DAY),
    IP_FAILURE_LIMIT: integer(50, 1, 100_000),
    IP_FAILURE_WINDOW: duration("15m", 1_000, DAY),
    NEW_SIGN_IN_NOTICE: booleanFlag(true),
    /** Multiplies every rate limit's maximum (tests and trusted internal deployments raise it). */
    RATE_LIMIT_SCALE: integer(1, 1, 1_000_000),
    /** How long an allowed action's estimate stays reserved without a settle or cancel. */
    ACTION_RESERVATION_TTL: duration("15m", 1_000, 30 * DAY),
    /** How long an action waits for approval before it expires. */
    ACTION_APPROVAL_TTL: duration("24h", 60_000, 30 * DAY),
    /** How often each process releases expired reservations and holds (0: never; tests). */
    ACTION_SWEEP_INTERVAL: duration("30s", 0, DAY),
    /** How often a process deletes ended sessions, spent one-time tokens and finished webhook events (0: never). */
    HOUSEKEEPING_INTERVAL: duration("1h", 0, 7 * DAY),
    /** How long such rows are kept after they ended, for investigations, before housekeeping deletes them. */
    HOUSEKEEPING_RETENTION: duration("30d", 60_000, 3_650 * DAY),
    /** How often each process looks for webhook deliveries that are due (0: no worker in this process). */
    WEBHOOK_POLL_INTERVAL: duration("1s", 0, 3_600_000),
    /** Deadline of one delivery attempt: resolution, connection and answer. */
    WEBHOOK_TIMEOUT: duration("10s", 100, 60_000),
    /** Attempts before a delivery is marked FAILED (it can still be re-sent). */
    WEBHOOK_MAX_ATTEMPTS: integer(8, 1, 50),
    /** The wait before the second attempt; each later one waits twice as long (with jitter), up to WEBHOOK_RETRY_MAX. */
    WEBHOOK_RETRY_BASE: duration("30s", 0, DAY),
    WEBHOOK_RETRY_MAX: duration("6h", 0, 7 * DAY),
    /** Deliveries one process sends at once: a slow endpoint holds one slot, never the others. */
    WEBHOOK_CONCURRENCY: integer(8, 1, 100),
    /** Allow http:// webhook URLs (https only by default). */
    WEBHOOK_ALLOW_HTTP: booleanFlag(false),
    /** Allow webhook targets on loopback, private, CGNAT and link-local addresses (metadata addresses never). */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: booleanFlag(false),
    /** 32 bytes (base64 or hex) sealing webhook signing secrets; default: generated into DATA_DIR/keys. */
    WEBHOOK_ENCRYPTION_KEY: optionalString,
});

type Fields = z.infer<typeof fieldsSchema>;

/** An absolute http(s) URL with a host and nothing after the path. */
function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "" && !url.username && !url.search && !url.hash;
}

/** Exactly what a browser sends in `Origin`: scheme://host[:port], http or https, no path. */
function isOrigin(text: string): boolean {
  return isHttpUrl(text) && new URL(text).origin === text;
}

/**
 * Rules that relate two variables. They run on whatever variables parsed, so a type error
 * in one variable never hides a conflict between two others.
 */
function crossFieldProblems(config: Partial<Fields>): string[] {
  const problems: string[] = [];
  const both = <K extends keyof Fields>(a: K, b: K) => config[a] !== undefined && config[b] !== undefined;
  if (config.JWT_PRIVATE_KEY && config.JWT_PRIVATE_KEY_FILE) {
    problems.push("JWT_PRIVATE_KEY_FILE: set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE, not both");
  }
  if (config.JWT_SECRET && (config.JWT_PRIVATE_KEY || config.JWT_PRIVATE_KEY_FILE || config.JWT_KEYS_DIR)) {
    problems.push("JWT_SECRET: set JWT_SECRET (HS256) or private keys (RS256), not both");
  }
  if (config.JWT_KEYS_DIR && (config.JWT_PRIVATE_KEY || config.JWT_PRIVATE_KEY_FILE)) {
    problems.push("JWT_KEYS_DIR: set JWT_KEYS_DIR or one private key (JWT_PRIVATE_KEY, JWT_PRIVATE_KEY_FILE), not both");
  }
  if (both("SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_LIFETIME") && (config.SESSION_IDLE_TIMEOUT as number) > (config.SESSION_ABSOLUTE_LIFETIME as number)) {
    problems.push("SESSION_IDLE_TIMEOUT: must not exceed SESSION_ABSOLUTE_LIFETIME");
  }
  if (both("ACCESS_TOKEN_TTL", "SESSION_IDLE_TIMEOUT") && (config.ACCESS_TOKEN_TTL as number) > (config.SESSION_IDLE_TIMEOUT as number)) {
    problems.push("ACCESS_TOKEN_TTL: must not exceed SESSION_IDLE_TIMEOUT");
  }
  if (both("LOCKOUT_BASE", "LOCKOUT_MAX") && (config.LOCKOUT_BASE as number) > (config.LOCKOUT_MAX as number)) {
    problems.push("LOCKOUT_BASE: must not exceed LOCKOUT_MAX");
  }
  if (both("WEBHOOK_RETRY_BASE", "WEBHOOK_RETRY_MAX") && (config.WEBHOOK_RETRY_BASE as number) > (config.WEBHOOK_RETRY_MAX as number)) {
    problems.push("WEBHOOK_RETRY_BASE: must not exceed WEBHOOK_RETRY_MAX");
  }
  problems.push(...mailProblems(config));
  if (config.BOOTSTRAP_ADMIN_PASSWORD && !config.BOOTSTRAP_ADMIN_EMAIL) {
    problems.push("BOOTSTRAP_ADMIN_EMAIL: required when BOOTSTRAP_ADMIN_PASSWORD is set");
  }
  return problems;
}

/** One mail transport at most, and SMTP settings only beside SMTP_HOST. */
function mailProblems(config: Partial<Fields>): string[] {
  const problems: string[] = [];
  if (config.POSTMARK_SERVER_TOKEN && config.SMTP_HOST) {
    problems.push("SMTP_HOST: set POSTMARK_SERVER_TOKEN or SMTP_HOST (one mail transport), not both");
  }
  const smtpOnly = ["SMTP_SECURITY", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM_EMAIL", "SMTP_FROM_NAME"] as const;
  if (!config.SMTP_HOST) {
    for (const name of smtpOnly) if (config[name] !== undefined) problems.push(`${name}: needs SMTP_HOST`);
    return problems;
  }
  if (Boolean(config.SMTP_USERNAME) !== Boolean(config.SMTP_PASSWORD)) {
    problems.push("SMTP_PASSWORD: set SMTP_USERNAME and SMTP_PASSWORD together, or neither");
  }
  if (config.SMTP_FROM_NAME && !config.SMTP_FROM_EMAIL) problems.push("SMTP_FROM_NAME: needs SMTP_FROM_EMAIL");
  return problems;
}

/** When neither JWT_ISSUER nor PUBLIC_URL is set: the same on every process of a deployment. */
export const DEFAULT_JWT_ISSUER = "agent-identity";

/**
 * Values computed from others (PUBLIC_URL from PORT; APP_URL from PUBLIC_URL; JWT_ISSUER from
 * an explicit PUBLIC_URL, else a fixed name). The issuer never follows PORT: processes of one deployment listen on
 * different ports and must accept each other's tokens.
 */
function derive(config: Fields) {
  const explicitPublicUrl = config.PUBLIC_URL?.replace(/\/+$/, "");
  const publicUrl = explicitPublicUrl ?? `http://localhost:${config.PORT || 4000}`;
  return {
    ...config,
    DATA_DIR: path.resolve(config.DATA_DIR),
    PUBLIC_URL: publicUrl,
    APP_URL: config.APP_URL?.replace(/\/+$/, "") ?? `${publicUrl}/app`,
    JWT_ISSUER: config.JWT_ISSUER ?? explicitPublicUrl ?? DEFAULT_JWT_ISSUER,
    SMTP_SECURITY: config.SMTP_SECURITY ?? (config.SMTP_PORT === 465 ? "tls" : "starttls"),
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(fieldsSchema.shape)) {
    const raw = env[key];
    const result = (schema as z.ZodType).safeParse(raw === "" ? undefined : raw);
    if (result.success) parsed[key] = result.data;
    else problems.push(...result.error.issues.map((issue) => `${key}: ${issue.message}`));
  }
  problems.push(...crossFieldProblems(parsed as Partial<Fields>));
  if (problems.length > 0) throw new ConfigError(problems);
  return derive(parsed as Fields);
}
