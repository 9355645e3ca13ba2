import type { Db } from "../db/database";
import { roles } from "../db/schema";
import { ConfigError } from "./config";

/**
 * Checks of configuration that need the database: custom roles live there, so whether
 * MFA_REQUIRED_ROLES names real roles is known only once it is open. A misspelt role
 * (`ADMINN`) would otherwise silently turn MFA off for the role meant.
 */
export function unknownRoleProblems(required: readonly string[], known: readonly string[]): string[] {
  const unknown = required.filter((name) => !known.includes(name));
  return unknown.length === 0 ? [] : [`MFA_REQUIRED_ROLES: unknown roles ${unknown.join(", ")} (roles: ${known.join(", ")})`];
}

/** Throws ConfigError (like a bad variable at parse time) when a required role does not exist. */
export async function checkRequiredRolesExist(db: Db, required: readonly string[]): Promise<void> {
  if (required.length === 0) return;
  const rows = await db.select({ name: roles.name }).from(roles);
  const problems = unknownRoleProblems(
    required,
    rows.map((row) => row.name),
  );
  if (problems.length > 0) throw new ConfigError(problems);
}
