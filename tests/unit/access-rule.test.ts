import { describe, expect, it } from "vitest";
import { allows, describeRule } from "../../src/auth/access-rule";
import type { Principal } from "../../src/auth/principal";
import type { UserRow } from "../../src/users/user.repository";

function principal(userId: string, roles: string[], permissions: string[]): Principal {
  return {
    kind: "user",
    userId,
    sessionId: "session-1",
    roles,
    permissions: new Set(permissions),
    restriction: null,
    user: { id: userId } as UserRow,
  };
}

const plainUser = principal("u-1", ["USER"], ["self:read"]);
const admin = principal("u-admin", ["ADMIN", "USER"], ["users:read", "users:delete"]);
const roleOnly = principal("u-2", ["ADMIN", "USER"], []);
const permissionOnly = principal("u-3", ["USER"], ["users:delete"]);

describe("allows", () => {
  it("an empty rule lets any signed-in principal through", () => {
    expect(allows({}, plainUser)).toBe(true);
  });

  it("requires-only checks the role", () => {
    expect(allows({ requires: "ADMIN" }, admin)).toBe(true);
    expect(allows({ requires: "ADMIN" }, plainUser)).toBe(false);
  });

  it("permission-only checks the permission", () => {
    expect(allows({ permission: "users:delete" }, permissionOnly)).toBe(true);
    expect(allows({ permission: "users:delete" }, plainUser)).toBe(false);
  });

  it("requires and permission must both hold", () => {
    const rule = { requires: "ADMIN", permission: "users:delete" };
    expect(allows(rule, admin)).toBe(true);
    expect(allows(rule, roleOnly)).toBe(false);
    expect(allows(rule, permissionOnly)).toBe(false);
  });

  it("allowSelf on a User lets the user whose id it is through", () => {
    const rule = { requires: "ADMIN", allowSelf: true };
    expect(allows(rule, plainUser, { id: "u-1" }, "User")).toBe(true);
    expect(allows(rule, plainUser, { id: "u-other" }, "User")).toBe(false);
    // On a User, userId is not the owner.
    expect(allows(rule, plainUser, { id: "u-other", userId: "u-1" }, "User")).toBe(false);
  });

  it("allowSelf on other types uses record.userId", () => {
    const rule = { permission: "sessions:read", allowSelf: true };
    expect(allows(rule, plainUser, { id: "s-9", userId: "u-1" }, "Session")).toBe(true);
    expect(allows(rule, plainUser, { id: "s-9", userId: "u-other" }, "Session")).toBe(false);
    // On a Session, the record's own id is not the owner.
    expect(allows(rule, plainUser, { id: "u-1", userId: "u-other" }, "Session")).toBe(false);
  });

  it("allowSelf without a record falls back to the role/permission checks", () => {
    expect(allows({ requires: "ADMIN", allowSelf: true }, plainUser)).toBe(false);
    expect(allows({ requires: "ADMIN", allowSelf: true }, admin)).toBe(true);
  });

  it("without allowSelf the owner gets no pass", () => {
    expect(allows({ requires: "ADMIN" }, plainUser, { id: "u-1" }, "User")).toBe(false);
    expect(allows({ requires: "ADMIN", allowSelf: false }, plainUser, { id: "u-1" }, "User")).toBe(false);
    expect(allows({ permission: "sessions:read", allowSelf: false }, plainUser, { userId: "u-1" }, "Session")).toBe(false);
  });

  it("an owner with the role passes regardless of allowSelf", () => {
    expect(allows({ requires: "ADMIN", allowSelf: false }, admin, { id: "u-admin" }, "User")).toBe(true);
  });
});

describe("describeRule", () => {
  it("describes each kind of rule", () => {
    expect(describeRule({})).toBe("needs sign-in");
    expect(describeRule({ allowSelf: true })).toBe("needs sign-in");
    expect(describeRule({ requires: "ADMIN" })).toBe("needs role ADMIN");
    expect(describeRule({ permission: "users:read" })).toBe("needs permission users:read");
    expect(describeRule({ requires: "ADMIN", permission: "users:read" })).toBe("needs role ADMIN and permission users:read");
  });
});
