import { describe, expect, it } from "vitest";
import { resolveRoles, wouldCreateCycle, type RoleGraph, type RoleNode } from "../../src/auth/role-graph";

function graph(entries: Record<string, RoleNode>): RoleGraph {
  return new Map(Object.entries(entries));
}

const hierarchy = graph({
  ADMIN: { permissions: ["users:delete"], inherits: ["MANAGER"] },
  MANAGER: { permissions: ["users:read", "users:update"], inherits: ["USER"] },
  USER: { permissions: ["self:read"], inherits: [] },
  AUDITOR: { permissions: ["audit:read", "users:read"], inherits: ["USER"] },
});

describe("resolveRoles", () => {
  it("closes over multi-level inheritance and unions permissions", () => {
    const resolved = resolveRoles(["ADMIN"], hierarchy);
    expect(resolved.roles).toEqual(["ADMIN", "MANAGER", "USER"]);
    expect([...resolved.permissions].sort()).toEqual(["self:read", "users:delete", "users:read", "users:update"]);
  });

  it("does not grant roles above the granted one", () => {
    const resolved = resolveRoles(["MANAGER"], hierarchy);
    expect(resolved.roles).toEqual(["MANAGER", "USER"]);
    expect(resolved.permissions.has("users:delete")).toBe(false);
  });

  it("merges several grants, sorted and without duplicates", () => {
    const resolved = resolveRoles(["USER", "AUDITOR", "MANAGER"], hierarchy);
    expect(resolved.roles).toEqual(["AUDITOR", "MANAGER", "USER"]);
    expect([...resolved.permissions].sort()).toEqual(["audit:read", "self:read", "users:read", "users:update"]);
  });

  it("ignores unknown granted and inherited roles", () => {
    const withGhost = graph({
      A: { permissions: ["a"], inherits: ["DELETED"] },
    });
    const resolved = resolveRoles(["GHOST", "A"], withGhost);
    expect(resolved.roles).toEqual(["A"]);
    expect([...resolved.permissions]).toEqual(["a"]);
    expect(resolveRoles(["GHOST"], withGhost)).toEqual({ roles: [], permissions: new Set() });
  });

  it("terminates on cycles, including self-inheritance", () => {
    const cyclic = graph({
      A: { permissions: ["a"], inherits: ["B"] },
      B: { permissions: ["b"], inherits: ["C"] },
      C: { permissions: ["c"], inherits: ["A", "C"] },
    });
    const resolved = resolveRoles(["B"], cyclic);
    expect(resolved.roles).toEqual(["A", "B", "C"]);
    expect([...resolved.permissions].sort()).toEqual(["a", "b", "c"]);
  });

  it("grants nothing for no roles", () => {
    const resolved = resolveRoles([], hierarchy);
    expect(resolved.roles).toEqual([]);
    expect(resolved.permissions.size).toBe(0);
  });
});

describe("wouldCreateCycle", () => {
  const chain = graph({
    A: { permissions: [], inherits: ["B"] },
    B: { permissions: [], inherits: ["C"] },
    C: { permissions: [], inherits: [] },
    D: { permissions: [], inherits: [] },
  });

  it("a role as its own parent is a cycle", () => {
    expect(wouldCreateCycle(chain, "D", "D")).toBe(true);
  });

  it("detects a direct cycle", () => {
    // A already inherits B; making A a parent of B closes A -> B -> A.
    expect(wouldCreateCycle(chain, "B", "A")).toBe(true);
  });

  it("detects a transitive cycle", () => {
    // A -> B -> C; making A a parent of C closes the loop.
    expect(wouldCreateCycle(chain, "C", "A")).toBe(true);
  });

  it("allows edges that do not close a loop", () => {
    expect(wouldCreateCycle(chain, "A", "C")).toBe(false);
    expect(wouldCreateCycle(chain, "D", "A")).toBe(false);
    expect(wouldCreateCycle(chain, "C", "D")).toBe(false);
  });
});
