import type { Observe } from "./http/metrics";
import crypto from "node:crypto";
import path from "node:path";
import type { AccessTokenService } from "./auth/access-tokens";
import { createAuthService } from "./auth/auth.service";
import { createEmailVerificationService } from "./auth/email-verification.service";
import { createLoginService } from "./auth/login.service";
import { createMfaService } from "./auth/mfa.service";
import { createPasswordService } from "./auth/password.service";
import type { PasswordHasher } from "./auth/passwords";
import type { PrincipalVersions } from "./auth/principal-versions";
import { createRefreshService } from "./auth/refresh.service";
import type { RoleCatalog } from "./auth/role-catalog";
import { createSessionIssuer } from "./auth/session-issuer";
import type { SessionPolicy } from "./auth/session-policy";
import { createSessionService } from "./auth/session.service";
import type { SigningKeys } from "./auth/signing-keys";
import type { Clock } from "./clock";
import type { Config } from "./config/config";
import { readOrCreateKeyFile } from "./crypto/key-files";
import { createSecretBox, parseEncryptionKey } from "./crypto/secret-box";
import type { Db } from "./db/database";
import { createNotifier } from "./email/notifier";
import type { Mailer } from "./email/mailer";
import { createOutboxMailer } from "./email/outbox-mailer";
import { createPostmarkMailer } from "./email/postmark-mailer";
import { createSmtpMailer, type SmtpMailerOptions } from "./email/smtp-mailer";
import { createUnconfiguredMailer } from "./email/unconfigured-mailer";
import type { Logger } from "./logging/logger";
import type { Services } from "./services";
import type { SharedStore } from "./store/shared-store";
import { createUserAdminService } from "./users/user-admin.service";
import { createRoleService } from "./roles/role.service";

/**
 * Postmark or SMTP when configured (config refuses both). Without either: the file outbox in
 * development and tests; in production, none, said once at start, since a file outbox there
 * would swallow resets and verifications nobody ever receives.
 */
export function createMailer(config: Config, logger: Logger, clock: Clock): Mailer {
  if (config.POSTMARK_SERVER_TOKEN) {
    return createPostmarkMailer({ serverToken: config.POSTMARK_SERVER_TOKEN, apiUrl: config.POSTMARK_API_URL, from: config.EMAIL_FROM });
  }
  if (config.SMTP_HOST) {
    return createSmtpMailer({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      security: config.SMTP_SECURITY,
      username: config.SMTP_USERNAME,
      password: config.SMTP_PASSWORD,
      from: smtpSender(config),
      timeoutMs: config.SMTP_TIMEOUT,
    });
  }
  if (config.NODE_ENV === "production") {
    logger.warn(
      "mail is not configured (set POSTMARK_SERVER_TOKEN or SMTP_HOST): password reset, email verification, email change and invitations answer SERVICE_UNAVAILABLE; notices are not sent",
    );
    return createUnconfiguredMailer();
  }
  return createOutboxMailer({ directory: path.join(config.DATA_DIR, "outbox"), from: config.EMAIL_FROM, logger, clock });
}

/** `SMTP_FROM_NAME <SMTP_FROM_EMAIL>`, or EMAIL_FROM when SMTP_FROM_EMAIL is not set. */
function smtpSender(config: Config): SmtpMailerOptions["from"] {
  if (!config.SMTP_FROM_EMAIL) return config.EMAIL_FROM;
  return config.SMTP_FROM_NAME ? { name: config.SMTP_FROM_NAME, address: config.SMTP_FROM_EMAIL } : config.SMTP_FROM_EMAIL;
}

/** The key that seals TOTP secrets: MFA_ENCRYPTION_KEY, or one generated into DATA_DIR/keys. */
function mfaKey(config: Config): Buffer {
  const text =
    config.MFA_ENCRYPTION_KEY ??
    readOrCreateKeyFile(path.join(config.DATA_DIR, "keys", "mfa.key"), () => crypto.randomBytes(32).toString("base64url"));
  return parseEncryptionKey(text.trim());
}

/** Builds the account use-cases from config and the shared pieces. */
export function buildAccountServices(deps: {
  config: Config;
  db: Db;
  store: SharedStore;
  hasher: PasswordHasher;
  accessTokens: AccessTokenService;
  versions: PrincipalVersions;
  roleCatalog: RoleCatalog;
  keys: SigningKeys;
  sessionPolicy: SessionPolicy;
  clock: Clock;
  logger: Logger;
  mailer?: Mailer;
  /** Counts operational events (metrics). */
  observe?: Observe;
}): Omit<Services, "tokens" | "audit" | "agents" | "policies" | "actions" | "runs" | "webhooks" | "housekeeping"> {
  const { config, db, store, hasher, versions, clock, logger } = deps;
  const notifier = createNotifier({ mailer: deps.mailer ?? createMailer(config, logger, clock), db, logger, appUrl: config.APP_URL, observe: deps.observe });
  const issuer = createSessionIssuer({ ...deps, mfaRequiredRoles: config.MFA_REQUIRED_ROLES });
  const passwords = createPasswordService({
    db,
    hasher,
    notifier,
    versions,
    clock,
    logger,
    rules: {
      policy: {
        minLength: config.PASSWORD_MIN_LENGTH,
        requireClasses: config.PASSWORD_REQUIRE_CLASSES,
        forbidCommon: config.PASSWORD_FORBID_COMMON,
        forbidPersonalInfo: true,
      },
      historySize: config.PASSWORD_HISTORY,
      maxAgeMs: config.PASSWORD_MAX_AGE,
      resetTtlMs: config.PASSWORD_RESET_TTL,
    },
  });
  const verification = createEmailVerificationService({ db, hasher, notifier, versions, clock, ttlMs: config.EMAIL_VERIFICATION_TTL });
  const mfa = createMfaService({
    db,
    box: createSecretBox(mfaKey(config)),
    hasher,
    versions,
    clock,
    issuer: config.MFA_ISSUER,
    requiredRoles: config.MFA_REQUIRED_ROLES,
  });
  const refreshService = createRefreshService({
    db,
    keys: deps.keys,
    sessionPolicy: deps.sessionPolicy,
    clock,
    versions,
    complete: (grant) => issuer.complete(grant),
  });
  return {
    auth: createAuthService({
      db,
      issuer,
      passwords,
      verification,
      refreshService,
      versions,
      clock,
      requireVerifiedEmail: config.REQUIRE_VERIFIED_EMAIL,
      notifier,
    }),
    login: createLoginService({
      observe: deps.observe,
      db,
      store,
      hasher,
      issuer,
      passwords,
      mfa,
      notifier,
      versions,
      clock,
      lockout: { threshold: config.LOCKOUT_THRESHOLD, baseMs: config.LOCKOUT_BASE, maxMs: config.LOCKOUT_MAX },
      ipFailures: { limit: config.IP_FAILURE_LIMIT * config.RATE_LIMIT_SCALE, windowMs: config.IP_FAILURE_WINDOW },
      mfaChallengeTtlMs: config.MFA_CHALLENGE_TTL,
      requireVerifiedEmail: config.REQUIRE_VERIFIED_EMAIL,
      newSignInNotice: config.NEW_SIGN_IN_NOTICE,
      identifierKey: () => deps.keys.signerAt(clock.now()).chainKey,
    }),
    passwords,
    verification,
    mfa,
    sessions: createSessionService({ db, sessionPolicy: deps.sessionPolicy, clock, versions }),
    roles: createRoleService({ db, versions, clock }),
    users: createUserAdminService({ db, passwords, roleCatalog: deps.roleCatalog, versions, notifier, clock, emailChangeTtlMs: config.EMAIL_VERIFICATION_TTL }),
  };
}
