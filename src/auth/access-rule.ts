import { hasPermission, hasRole, type Principal } from "./principal";

/** An `@auth` rule as declared in the schema. */
export interface AccessRule {
  requires?: string;
  permission?: string;
  allowSelf?: boolean;
  allowRestricted?: boolean;
  agent?: boolean;
  orAgent?: boolean;
}

/** The record a field belongs to, when the rule may let its own user through. */
export interface OwnedRecord {
  id?: unknown;
  userId?: unknown;
}

/** The user a record belongs to: a User is its own, a Session or Agent has `userId`. */
function ownerOf(record: OwnedRecord | undefined, typeName: string): unknown {
  if (!record) return undefined;
  return typeName === "User" ? record.id : record.userId;
}

/**
 * Whether a principal passes a rule. Pure. `requires` and `permission` must both hold when
 * both are given; `allowSelf` lets the record's own user through either way.
 */
export function allows(rule: AccessRule, principal: Principal, record?: OwnedRecord, typeName = ""): boolean {
  if (rule.allowSelf && ownerOf(record, typeName) === principal.userId) return true;
  if (rule.requires && !hasRole(principal, rule.requires)) return false;
  if (rule.permission && !hasPermission(principal, rule.permission)) return false;
  return true;
}

export function describeRule(rule: AccessRule): string {
  const needs = [rule.requires && `role ${rule.requires}`, rule.permission && `permission ${rule.permission}`].filter(Boolean);
  return needs.length > 0 ? `needs ${needs.join(" and ")}` : "needs sign-in";
}
