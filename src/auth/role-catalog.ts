import type { Db } from "../db/database";
import { roleInherits, roles } from "../db/schema";
import type { RoleGraph } from "./role-graph";

/**
 * The role graph, loaded from the database and kept per process until the shared roles
 * version changes (any process that edits roles bumps it).
 */
export interface RoleCatalog {
  /** The graph for a roles version. Never call it inside a transaction (see Database). */
  graph(version: string): Promise<RoleGraph>;
}

export function createRoleCatalog(db: Db): RoleCatalog {
  let cached: { version: string; graph: Promise<RoleGraph> } | undefined;

  async function load(): Promise<RoleGraph> {
    const roleRows = await db.select().from(roles);
    const edgeRows = await db.select().from(roleInherits);
    const graph = new Map<string, { permissions: string[]; inherits: string[] }>();
    for (const row of roleRows) graph.set(row.name, { permissions: row.permissions, inherits: [] });
    for (const edge of edgeRows) graph.get(edge.roleName)?.inherits.push(edge.parentName);
    return graph;
  }

  return {
    graph(version) {
      if (cached?.version !== version) {
        const graph = load();
        cached = { version, graph };
        graph.catch(() => {
          if (cached?.graph === graph) cached = undefined;
        });
      }
      return cached.graph;
    },
  };
}
