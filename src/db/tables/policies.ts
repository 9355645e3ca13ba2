import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const policyScope = pgEnum("policy_scope", ["GLOBAL", "ROLE", "USER", "AGENT"]);
export const policyMode = pgEnum("policy_mode", ["ENFORCE", "SHADOW"]);
/** With what authority a policy was written (src/policy/policy-types.ts, PolicyAuthority). */
export const policyAuthority = pgEnum("policy_authority", ["OVERRIDE", "RESTRICTION"]);
export const policyChange = pgEnum("policy_change", ["CREATED", "UPDATED", "ENABLED", "DISABLED", "MODE_CHANGED", "DELETED"]);

/** An action rule as stored: money as a decimal string (jsonb has no exact 64-bit integer). */
export interface StoredRule {
  id: string;
  pattern: string;
  effect: "ALLOW" | "DENY" | "REQUIRE_APPROVAL";
  maxCostPerAction: string | null;
  /** Absent in rules written before overrun allowances existed. */
  overrunAllowance?: string;
  locked: boolean;
}

export interface StoredCap {
  id: string;
  per: "AGENT" | "OWNER" | "GLOBAL" | "RUN";
  window: "MINUTE" | "HOUR" | "DAY" | "WEEK" | "MONTH" | "TOTAL";
  limit: string;
  overrunAllowance?: string;
  locked: boolean;
  measure?: "ACTIONS";
  pattern?: string;
  soft?: true;
  thresholds?: number[];
}

/** A whole policy as one version of it was: what `policy_versions.snapshot` holds. */
export interface StoredPolicySnapshot {
  id: string;
  name: string;
  scope: "GLOBAL" | "ROLE" | "USER" | "AGENT";
  scopeId: string | null;
  enabled: boolean;
  mode: "ENFORCE" | "SHADOW";
  /**
   * Absent in versions written before authorities existed: those were all decided as
   * OVERRIDE (migration 0011 wrote a new version for every policy it made a RESTRICTION).
   */
  authority?: "OVERRIDE" | "RESTRICTION";
  version: number;
  builtIn: boolean;
  rules: StoredRule[];
  caps: StoredCap[];
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  updatedBy: string | null;
  deletedAt: string | null;
}

/**
 * Governance policies, current state. `version` counts every change (create = 1); each
 * version is also kept whole in `policy_versions`, written in the transaction of the change.
 * Deleting is soft (`deleted_at`): decisions recorded against a policy version stay
 * explainable. `built_in` marks the seeded default GLOBAL policy (editable, not deletable).
 * `created_by` / `updated_by` are user ids without a foreign key: history outlives accounts.
 * `authority` is set by every write from the writer's permissions (policy.service.ts): a
 * write without `policies:write` makes the policy a RESTRICTION layer.
 */
export const policies = pgTable(
  "policies",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    scope: policyScope("scope").notNull(),
    /** Role name (ROLE), user id (USER), agent id (AGENT); null for GLOBAL. */
    scopeId: text("scope_id"),
    enabled: boolean("enabled").notNull().default(true),
    mode: policyMode("mode").notNull().default("ENFORCE"),
    authority: policyAuthority("authority").notNull().default("OVERRIDE"),
    version: integer("version").notNull().default(1),
    builtIn: boolean("built_in").notNull().default(false),
    rules: jsonb("rules").$type<StoredRule[]>().notNull().default([]),
    caps: jsonb("caps").$type<StoredCap[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    createdBy: uuid("created_by"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    updatedBy: uuid("updated_by"),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (table) => [
    index("policies_scope_idx").on(table.scope, table.scopeId).where(sql`${table.deletedAt} IS NULL`),
    check("policies_scope_id_check", sql`(${table.scope} = 'GLOBAL') = (${table.scopeId} IS NULL)`),
    check("policies_version_check", sql`${table.version} >= 1`),
  ],
);

/** Every version of every policy, whole; never updated. */
export const policyVersions = pgTable(
  "policy_versions",
  {
    policyId: uuid("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    change: policyChange("change").notNull(),
    snapshot: jsonb("snapshot").$type<StoredPolicySnapshot>().notNull(),
    changedBy: uuid("changed_by"),
    changedAt: timestamp("changed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.policyId, table.version] })],
);
