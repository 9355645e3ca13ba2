import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const userStatus = pgEnum("user_status", ["active", "disabled", "locked"]);

/**
 * Accounts. Email and username are unique case-insensitively among accounts that are not
 * deleted, so a soft-deleted account frees its email.
 */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    username: text("username"),
    passwordHash: text("password_hash"),
    status: userStatus("status").notNull().default("active"),
    displayName: text("display_name"),
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    mfaEnabled: boolean("mfa_enabled").notNull().default(false),
    /** TOTP secret, sealed with the MFA key (AES-256-GCM); null until enrolment is confirmed. */
    mfaSecretSealed: text("mfa_secret_sealed"),
    /** A secret being enrolled, not yet confirmed with a code. */
    mfaPendingSecretSealed: text("mfa_pending_secret_sealed"),
    /** The last TOTP time step accepted: a code is accepted once. */
    mfaLastUsedStep: bigint("mfa_last_used_step", { mode: "number" }),
    passwordChangedAt: timestamp("password_changed_at", { withTimezone: true }),
    failedLoginCount: integer("failed_login_count").notNull().default(0),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    /** How many lockouts in a row: each one lasts twice as long as the last. */
    lockoutLevel: integer("lockout_level").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("users_email_live_key").on(sql`lower(${table.email})`).where(sql`${table.deletedAt} IS NULL`),
    uniqueIndex("users_username_live_key").on(sql`lower(${table.username})`).where(sql`${table.deletedAt} IS NULL`),
    index("users_created_at_idx").on(table.createdAt, table.id),
    // The other two orders of the users list, keyset-paginated on (key, id) (users/user-query.ts).
    index("users_email_order_idx").on(sql`lower(${table.email})`, table.id).where(sql`${table.deletedAt} IS NULL`),
    index("users_last_login_order_idx").on(sql`coalesce(${table.lastLoginAt}, '1970-01-01T00:00:00Z'::timestamptz)`, table.id),
    // The admin search (`users(filter: { search })`: a substring of email, username or display
    // name, case-insensitive) through trigrams: a bitmap scan per column, not a scan of every
    // account. One index per column: the planner prices a three-column GIN index too high to use.
    index("users_email_trgm_idx").using("gin", table.email.op("gin_trgm_ops")),
    index("users_username_trgm_idx").using("gin", table.username.op("gin_trgm_ops")),
    index("users_display_name_trgm_idx").using("gin", table.displayName.op("gin_trgm_ops")),
  ],
);

/** Roles hold permission strings and may inherit from other roles. */
export const roles = pgTable("roles", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  permissions: text("permissions").array().notNull().default(sql`'{}'::text[]`),
  builtIn: boolean("built_in").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const roleInherits = pgTable(
  "role_inherits",
  {
    roleName: text("role_name")
      .notNull()
      .references(() => roles.name, { onDelete: "cascade", onUpdate: "cascade" }),
    parentName: text("parent_name")
      .notNull()
      .references(() => roles.name, { onDelete: "cascade", onUpdate: "cascade" }),
  },
  (table) => [primaryKey({ columns: [table.roleName, table.parentName] })],
);

/** Roles granted to a user beyond USER, which every user holds implicitly. */
export const userRoles = pgTable(
  "user_roles",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roleName: text("role_name")
      .notNull()
      .references(() => roles.name, { onDelete: "cascade", onUpdate: "cascade" }),
    grantedAt: timestamp("granted_at", { withTimezone: true }).notNull().defaultNow(),
    grantedBy: uuid("granted_by"),
  },
  (table) => [primaryKey({ columns: [table.userId, table.roleName] }), index("user_roles_role_idx").on(table.roleName)],
);
