import type { AgentRow } from "../agents/agent.repository";
import type { UserRow } from "../users/user.repository";

/** An authenticated person, as every access check after the token sees them. */
export interface UserPrincipal {
  readonly kind: "user";
  readonly userId: string;
  readonly sessionId: string;
  /** Granted roles closed over inheritance (always includes USER). */
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<string>;
  /** Set when the session may only complete one step (enrol MFA, change password, verify email). */
  readonly restriction: "mfa_enrollment" | "password_change" | "email_verification" | null;
  readonly user: UserRow;
}

/** An AI agent authenticated with one of its API keys. */
export interface AgentPrincipal {
  readonly kind: "agent";
  readonly agentId: string;
  readonly ownerId: string;
  readonly keyId: string;
  readonly agent: AgentRow;
  /** The agent's policy-chain stamp as read when this request was authenticated. */
  readonly chainStamp?: string;
}

/** A person. Agents are principals of their own kind (AgentPrincipal), never a Principal. */
export type Principal = UserPrincipal;

export function hasPermission(principal: Principal, permission: string): boolean {
  return principal.permissions.has(permission);
}

export function hasRole(principal: Principal, role: string): boolean {
  return principal.roles.includes(role);
}
