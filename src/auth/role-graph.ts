/** A role as the access checks see it: its own permissions and the roles it inherits from. */
export interface RoleNode {
  permissions: readonly string[];
  inherits: readonly string[];
}

export type RoleGraph = ReadonlyMap<string, RoleNode>;

export interface ResolvedRoles {
  /** The granted roles and every role they inherit from, sorted. */
  roles: string[];
  permissions: Set<string>;
}

/**
 * Closes a set of granted roles over inheritance. Unknown role names are ignored (a role
 * deleted since the grant grants nothing); cycles cannot loop (each role is visited once).
 */
export function resolveRoles(granted: Iterable<string>, graph: RoleGraph): ResolvedRoles {
  const seen = new Set<string>();
  const permissions = new Set<string>();
  const stack = [...granted];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    const node = graph.get(name);
    if (!node) continue;
    seen.add(name);
    for (const permission of node.permissions) permissions.add(permission);
    stack.push(...node.inherits);
  }
  return { roles: [...seen].sort(), permissions };
}

/** Whether adding `parent` as a parent of `role` would close a cycle. */
export function wouldCreateCycle(graph: RoleGraph, role: string, parent: string): boolean {
  if (role === parent) return true;
  return resolveRoles([parent], graph).roles.includes(role);
}
