import type { UserRow } from "../users/user.repository";

/** An authenticated person, as every access check after the token sees them. */
export interface UserPrincipal {
  readonly kind: "user";
  readonly userId: string;
  readonly sessionId: string;
  /** Granted roles closed over inheritance (always includes USER). */
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<string>;
  readonly user: UserRow;
}

export type Principal = UserPrincipal;

export function hasPermission(principal: Principal, permission: string): boolean {
  return principal.permissions.has(permission);
}

export function hasRole(principal: Principal, role: string): boolean {
  return principal.roles.includes(role);
}
