import { describe, expect, it } from "vitest";
import { PERMISSIONS } from "../../src/auth/permissions";
import type { RoleGraph, RoleNode } from "../../src/auth/role-graph";
import { BUILT_IN_ROLE_DEFINITIONS } from "../../src/auth/roles";
import { UserInputError } from "../../src/errors/errors";
import {
  assertNoCycle,
  assertRoleName,
  beyondHolder,
  inheritancePath,
  normalizeDescription,
  normalizeInherits,
  normalizePermissions,
  sameDefinition,
  sameSet,
  toRoleRecord,
  withRole,
} from "../../src/roles/role-rules";

function graph(entries: Record<string, RoleNode>): RoleGraph {
  return new Map(Object.entries(entries));
}

const builtIns = graph(BUILT_IN_ROLE_DEFINITIONS);

/** The thrown UserInputError, for asserting message and field together. */
function inputError(run: () => unknown): UserInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserInputError) return error;
    throw error;
  }
  throw new Error("expected a UserInputError");
}

describe("role names, descriptions, permissions", () => {
  it("accepts upper snake case names of 2 to 40 characters", () => {
    for (const name of ["QA", "SUPPORT_AGENT", "TIER_2", `A${"B".repeat(39)}`]) expect(() => assertRoleName(name)).not.toThrow();
  });

  it("refuses other names, on field name", () => {
    for (const name of ["", "A", "support", "Support", "2FA", "_X", "WITH SPACE", "DASH-ED", `A${"B".repeat(40)}`]) {
      expect(inputError(() => assertRoleName(name)).field).toBe("name");
    }
  });

  it("trims descriptions and refuses long ones", () => {
    expect(normalizeDescription("  reads tickets ")).toBe("reads tickets");
    expect(normalizeDescription(null)).toBe("");
    expect(normalizeDescription("x".repeat(500))).toHaveLength(500);
    expect(inputError(() => normalizeDescription("x".repeat(501))).field).toBe("description");
  });

  it("sorts and deduplicates known permissions", () => {
    expect(normalizePermissions(["users:read", "audit:read", "users:read"])).toEqual(["audit:read", "users:read"]);
    expect(normalizePermissions([])).toEqual([]);
    expect(normalizePermissions([...PERMISSIONS])).toHaveLength(PERMISSIONS.length);
  });

  it("refuses unknown permissions, naming each of them once", () => {
    const error = inputError(() => normalizePermissions(["users:read", "users:delete", "root", "root"]));
    expect(error.field).toBe("permissions");
    expect(error.message).toBe("Unknown permissions: root, users:delete");
  });

  it("refuses inheriting unknown roles, naming them", () => {
    expect(normalizeInherits(["MANAGER", "USER", "MANAGER"], builtIns)).toEqual(["MANAGER", "USER"]);
    const error = inputError(() => normalizeInherits(["MANAGER", "GHOST", "OWNER"], builtIns));
    expect(error).toMatchObject({ field: "inherits", message: "Unknown roles to inherit from: GHOST, OWNER" });
  });
});

describe("inheritance cycles", () => {
  // A -> B -> C (A inherits B, B inherits C); D stands alone.
  const chain = graph({
    A: { permissions: [], inherits: ["B"] },
    B: { permissions: [], inherits: ["C"] },
    C: { permissions: [], inherits: [] },
    D: { permissions: [], inherits: [] },
  });

  it("finds the path along inherit edges", () => {
    expect(inheritancePath(chain, "A", "C")).toEqual(["A", "B", "C"]);
    expect(inheritancePath(chain, "C", "A")).toBeUndefined();
    expect(inheritancePath(chain, "D", "D")).toEqual(["D"]);
  });

  it("names a self cycle", () => {
    expect(inputError(() => assertNoCycle(chain, "D", ["D"])).message).toBe("Inheriting D would create a cycle: D -> D");
  });

  it("names a direct cycle", () => {
    const error = inputError(() => assertNoCycle(chain, "B", ["A"]));
    expect(error).toMatchObject({ field: "inherits", message: "Inheriting A would create a cycle: B -> A -> B" });
  });

  it("names a transitive cycle", () => {
    expect(inputError(() => assertNoCycle(chain, "C", ["D", "A"])).message).toBe(
      "Inheriting A would create a cycle: C -> A -> B -> C",
    );
  });

  it("sets the role's current edges aside: replacing them cannot cycle through them", () => {
    // B currently inherits C; B's new parents D replace that edge.
    expect(() => assertNoCycle(chain, "B", ["D"])).not.toThrow();
    expect(() => assertNoCycle(chain, "A", ["C", "D"])).not.toThrow();
  });

  it("allows a new role to inherit anything that exists", () => {
    expect(() => assertNoCycle(chain, "NEW", ["A", "D"])).not.toThrow();
  });
});

describe("records and escalation", () => {
  it("computes effective permissions through inheritance", () => {
    const record = toRoleRecord(
      { name: "ADMIN", description: "", permissions: [], inherits: ["MANAGER", "COMPLIANCE_OFFICER"], builtIn: true },
      builtIns,
    );
    expect(record.effectivePermissions).toEqual([...PERMISSIONS].sort());
    const custom = withRole(builtIns, "SUPPORT", { permissions: ["audit:read"], inherits: ["MANAGER"] });
    expect(toRoleRecord({ name: "SUPPORT", description: "", permissions: ["audit:read"], inherits: ["MANAGER"], builtIn: false }, custom).effectivePermissions).toEqual(
      ["actions:approve", "agents:read", "audit:read", "policies:read", "spend:read", "users:read"],
    );
  });

  it("an admin can hand out anything", () => {
    const admin = { roles: ["ADMIN", "COMPLIANCE_OFFICER", "MANAGER", "USER"], permissions: new Set<string>(PERMISSIONS) };
    expect(beyondHolder(builtIns, ["ADMIN"], admin)).toEqual([]);
    expect(beyondHolder(withRole(builtIns, "X", { permissions: [], inherits: ["ADMIN"] }), ["X"], admin)).toEqual([]);
  });

  it("names the built-in roles and permissions a holder lacks", () => {
    const roleManager = { roles: ["ROLE_MANAGER", "USER"], permissions: new Set(["roles:read", "roles:write", "users:read"]) };
    expect(beyondHolder(builtIns, ["MANAGER"], roleManager)).toEqual([
      "role MANAGER",
      "permission actions:approve",
      "permission agents:read",
      "permission policies:read",
      "permission spend:read",
    ]);
    const readers = withRole(builtIns, "READERS", { permissions: ["users:read"], inherits: ["USER"] });
    expect(beyondHolder(readers, ["READERS"], roleManager)).toEqual([]);
  });

  it("compares lists as sets", () => {
    expect(sameSet(["a", "b"], ["b", "a", "a"])).toBe(true);
    expect(sameSet(["a"], ["a", "b"])).toBe(false);
    expect(sameSet([], [])).toBe(true);
    const role = { name: "R", description: "d", permissions: ["a", "b"], inherits: ["P"], builtIn: false };
    expect(sameDefinition(role, { ...role, permissions: ["b", "a"] })).toBe(true);
    expect(sameDefinition(role, { ...role, description: "e" })).toBe(false);
    expect(sameDefinition(role, { ...role, inherits: [] })).toBe(false);
  });
});
