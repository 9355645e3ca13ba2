import { isPermission } from "../auth/permissions";
import { resolveRoles, wouldCreateCycle, type RoleGraph, type RoleNode } from "../auth/role-graph";
import { BUILT_IN_ROLES, ROLE_NAME_PATTERN } from "../auth/roles";
import { UserInputError } from "../errors/errors";

/**
 * Pure rules for role definitions and grants: no I/O, no clock. The role service loads the
 * graph inside its transaction and asks these functions; they throw typed errors or answer.
 */

/** USER is held by every account implicitly: it is never stored as a grant. */
export const IMPLICIT_ROLE = "USER";
export const MAX_DESCRIPTION_LENGTH = 500;

/** A role definition as stored: its own permissions and the roles it inherits from. */
export interface RoleDefinition {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  builtIn: boolean;
}

/** A role definition as shown: plus every permission it confers through inheritance. */
export interface RoleRecord extends RoleDefinition {
  effectivePermissions: string[];
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

export function isBuiltInRole(name: string): boolean {
  return (BUILT_IN_ROLES as readonly string[]).includes(name);
}

export function assertRoleName(name: string): void {
  if (!ROLE_NAME_PATTERN.test(name)) {
    throw new UserInputError(
      "A role name is 2 to 40 characters of upper-case letters, digits and underscores, starting with a letter",
      "name",
    );
  }
}

export function normalizeDescription(description: string | null | undefined): string {
  const text = (description ?? "").trim();
  if (text.length > MAX_DESCRIPTION_LENGTH) {
    throw new UserInputError(`A description is at most ${MAX_DESCRIPTION_LENGTH} characters`, "description");
  }
  return text;
}

/** Deduplicated and sorted; refuses any string not in the closed list, naming each. */
export function normalizePermissions(permissions: readonly string[]): string[] {
  const unknown = sorted(permissions.filter((permission) => !isPermission(permission)));
  if (unknown.length > 0) {
    throw new UserInputError(`Unknown permissions: ${unknown.join(", ")}`, "permissions");
  }
  return sorted(permissions);
}

/** Deduplicated and sorted; refuses parents missing from the graph, naming each. */
export function normalizeInherits(inherits: readonly string[], graph: RoleGraph): string[] {
  const unknown = sorted(inherits.filter((parent) => !graph.has(parent)));
  if (unknown.length > 0) {
    throw new UserInputError(`Unknown roles to inherit from: ${unknown.join(", ")}`, "inherits");
  }
  return sorted(inherits);
}

/** A path `from -> ... -> to` along inherit edges, or undefined when `to` is out of reach. */
export function inheritancePath(graph: RoleGraph, from: string, to: string): string[] | undefined {
  const visited = new Set<string>();
  const walk = (name: string): string[] | undefined => {
    if (name === to) return [name];
    if (visited.has(name)) return undefined;
    visited.add(name);
    for (const parent of graph.get(name)?.inherits ?? []) {
      const rest = walk(parent);
      if (rest) return [name, ...rest];
    }
    return undefined;
  };
  return walk(from);
}

/**
 * Refuses parents that would close an inheritance cycle through `role`, naming the cycle
 * (`B -> A -> B`: B would inherit A, which already inherits B). `graph` may still hold the
 * role's current edges; they are set aside, since `parents` replaces them.
 */
export function assertNoCycle(graph: RoleGraph, role: string, parents: readonly string[]): void {
  const without = new Map<string, RoleNode>(graph);
  without.set(role, { permissions: graph.get(role)?.permissions ?? [], inherits: [] });
  for (const parent of parents) {
    if (!wouldCreateCycle(without, role, parent)) continue;
    const path = [role, ...(inheritancePath(without, parent, role) ?? [parent, role])];
    throw new UserInputError(`Inheriting ${parent} would create a cycle: ${path.join(" -> ")}`, "inherits");
  }
}

/** The graph with one role's node replaced (or added). */
export function withRole(graph: RoleGraph, name: string, node: RoleNode): RoleGraph {
  return new Map<string, RoleNode>(graph).set(name, node);
}

export function toRoleRecord(definition: RoleDefinition, graph: RoleGraph): RoleRecord {
  return { ...definition, effectivePermissions: sorted(resolveRoles([definition.name], graph).permissions) };
}

/**
 * What holding `roles` would confer that `holder` lacks: permissions, and built-in roles
 * (which `@auth(requires:)` checks by name). Someone with roles:write may hand out only what
 * they hold themselves, so the right to manage roles cannot be stretched into more.
 */
export function beyondHolder(
  graph: RoleGraph,
  roles: readonly string[],
  holder: { roles: readonly string[]; permissions: ReadonlySet<string> },
): string[] {
  const conferred = resolveRoles(roles, graph);
  const missingRoles = conferred.roles.filter((role) => isBuiltInRole(role) && !holder.roles.includes(role));
  const missingPermissions = [...conferred.permissions].filter((permission) => !holder.permissions.has(permission));
  return [...missingRoles.sort().map((role) => `role ${role}`), ...missingPermissions.sort().map((p) => `permission ${p}`)];
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = sorted(a);
  const right = sorted(b);
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** Same description, permissions and parents (lists compared as sets). */
export function sameDefinition(a: RoleDefinition, b: RoleDefinition): boolean {
  return a.description === b.description && sameSet(a.permissions, b.permissions) && sameSet(a.inherits, b.inherits);
}
