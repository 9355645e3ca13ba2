import { index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * What a restricted session may still do: only enrol MFA, only change the password, or only
 * verify the email address. Null: unrestricted.
 */
export const sessionRestriction = pgEnum("session_restriction", ["mfa_enrollment", "password_change", "email_verification"]);

/** One row per login. A session ends when revoked, idle too long, or past its absolute expiry. */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    idleExpiresAt: timestamp("idle_expires_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedReason: text("revoked_reason"),
    restriction: sessionRestriction("restriction"),
  },
  (table) => [index("sessions_user_idx").on(table.userId, table.createdAt)],
);

/**
 * Opaque refresh tokens, `<id>.<secret>`: only a SHA-256 of the secret is kept. A token is
 * current until rotated; `rotatedAt` starts the grace window in which presenting it again
 * yields the same successor instead of revoking the session.
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
  },
  (table) => [index("refresh_tokens_session_idx").on(table.sessionId)],
);
