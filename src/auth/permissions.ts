/**
 * The closed list of permission strings. Roles hold subsets of these; `@auth(permission:)`
 * names one of them. Migration 0001 seeds the built-in roles with exactly the sets below
 * (a test compares the two), and later migrations add what came after (0012: `spend:write`
 * for ADMIN; 0013: `runs:read` for COMPLIANCE_OFFICER, `runs:write` for ADMIN; 0016: `webhooks:read` and
 * `webhooks:write` for ADMIN).
 */
export const PERMISSIONS = [
  "users:read",
  "users:write",
  "roles:read",
  "roles:write",
  "audit:read",
  "audit:export",
  "agents:read",
  "agents:write",
  "policies:read",
  "policies:write",
  "actions:approve",
  "spend:read",
  "spend:write",
  "runs:read",
  "runs:write",
  "webhooks:read",
  "webhooks:write",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
