import { index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

export const oneTimeTokenPurpose = pgEnum("one_time_token_purpose", [
  "verify_email",
  "password_reset",
  "email_change",
  "mfa_challenge",
]);

/**
 * Single-use secrets sent by email or handed out for a second login step: `<id>.<secret>`,
 * only a SHA-256 of the secret kept. A token is usable while unused, not invalidated and
 * not expired; a newer token of the same purpose invalidates older ones.
 */
export const oneTimeTokens = pgTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: oneTimeTokenPurpose("purpose").notNull(),
    secretHash: text("secret_hash").notNull(),
    /** The address a verification or email-change token was sent to. */
    email: text("email"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    invalidatedAt: timestamp("invalidated_at", { withTimezone: true }),
  },
  (table) => [index("one_time_tokens_user_purpose_idx").on(table.userId, table.purpose)],
);

/** Earlier password hashes, to refuse reuse of the last N passwords. */
export const passwordHistory = pgTable(
  "password_history",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    passwordHash: text("password_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("password_history_user_idx").on(table.userId, table.createdAt)],
);

/** MFA recovery codes: shown once, stored as SHA-256, each usable once. */
export const mfaRecoveryCodes = pgTable(
  "mfa_recovery_codes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    usedAt: timestamp("used_at", { withTimezone: true }),
  },
  (table) => [index("mfa_recovery_codes_user_idx").on(table.userId)],
);
