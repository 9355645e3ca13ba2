import type { Permission } from "./permissions";

/** Built-in roles, seeded by migration 0001 (ADMIN's `spend:write` by 0012, the run permissions by 0013, ADMIN's `webhooks:*` by 0016). USER is held by every account implicitly. */
export const BUILT_IN_ROLES = ["USER", "MANAGER", "COMPLIANCE_OFFICER", "ADMIN"] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

export const BUILT_IN_ROLE_DEFINITIONS: Record<
  BuiltInRole,
  { description: string; permissions: Permission[]; inherits: BuiltInRole[] }
> = {
  USER: { description: "Every account: own profile, sessions and agents", permissions: [], inherits: [] },
  MANAGER: {
    description: "Oversees people and their agents; approves held agent actions",
    permissions: ["users:read", "agents:read", "policies:read", "spend:read", "actions:approve"],
    inherits: ["USER"],
  },
  COMPLIANCE_OFFICER: {
    description: "Reads and exports the audit trail and spend reports",
    permissions: ["users:read", "audit:read", "audit:export", "agents:read", "policies:read", "spend:read", "runs:read"],
    inherits: ["USER"],
  },
  ADMIN: {
    description: "Runs the server: users, roles, agents and policies",
    permissions: ["users:write", "roles:read", "roles:write", "agents:write", "policies:write", "spend:write", "runs:write", "webhooks:read", "webhooks:write"],
    inherits: ["MANAGER", "COMPLIANCE_OFFICER"],
  },
};

/** Role names as they are stored and shown: upper snake case, 2 to 40 characters. */
export const ROLE_NAME_PATTERN = /^[A-Z][A-Z0-9_]{1,39}$/;
