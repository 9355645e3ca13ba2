import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userRoles, users } from "../../src/db/schema";
import { LoginDocument, MeDocument, RegisterDocument, ResetPasswordDocument } from "../generated/graphql";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode, type GraphQLClient } from "../support/graphql-client";
import { tokenFromMail } from "../support/mailbox";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
let admin: string;
const POPULATION = 240;
const TAG = `pg${Date.now().toString(36)}`;

const USERS = `query ($filter: UserFilter, $orderBy: UserOrder, $first: Int, $after: String) {
  users(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id email username roles status } }
  } }`;

type UsersPage = {
  users: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; email: string; roles: string[]; status: string } }[];
  };
};

async function allPages(client: GraphQLClient, token: string, variables: Record<string, unknown>, first: number) {
  const seen: string[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let guard = 0; guard < 100; guard += 1) {
    const data: UsersPage = await client.ok<UsersPage, unknown>(USERS, { ...variables, first, after }, { token });
    totalCount = data.users.totalCount;
    seen.push(...data.users.edges.map((edge) => edge.node.id));
    if (!data.users.pageInfo.hasNextPage) break;
    after = data.users.pageInfo.endCursor;
  }
  return { ids: seen, totalCount };
}

beforeAll(async () => {
  server = await startTestServer();
  admin = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  const { db } = server.app.database;
  const base = Date.UTC(2026, 0, 1);
  const rows = Array.from({ length: POPULATION }, (_, i) => ({
    email: `${TAG}-${String(i).padStart(3, "0")}${i % 10 === 0 ? "-needle" : ""}@example.com`,
    username: `${TAG}_${i}`,
    displayName: i % 7 === 0 ? "Grace Hopper" : null,
    passwordHash: null,
    // Pairs share a creation time, so order ties are broken by id.
    createdAt: new Date(base + Math.floor(i / 2) * 60_000),
    lastLoginAt: i % 3 === 0 ? new Date(base + i * 1_000) : null,
    emailVerifiedAt: i % 2 === 0 ? new Date(base) : null,
  }));
  const inserted = await db.insert(users).values(rows).returning({ id: users.id, email: users.email });
  const managers = inserted.filter((_, i) => i % 12 === 0);
  await db.insert(userRoles).values(managers.map((row) => ({ userId: row.id, roleName: "MANAGER" })));
});
afterAll(() => server.close());

describe("users: search, filters, sorting, pagination", () => {
  const orders = [
    { field: "CREATED_AT", direction: "DESC" },
    { field: "CREATED_AT", direction: "ASC" },
    { field: "EMAIL", direction: "ASC" },
    { field: "LAST_LOGIN_AT", direction: "DESC" },
  ];
  for (const orderBy of orders) {
    it(`pages through everyone by ${orderBy.field} ${orderBy.direction} with no gaps or repeats`, async () => {
      const filter = { search: TAG };
      const { ids, totalCount } = await allPages(server.client, admin, { filter, orderBy }, 37);
      expect(totalCount).toBe(POPULATION);
      expect(ids).toHaveLength(POPULATION);
      expect(new Set(ids).size).toBe(POPULATION);
      const oneShot = await server.client.ok<UsersPage, unknown>(USERS, { filter, orderBy, first: 200 }, { token: admin });
      expect(ids.slice(0, 200)).toEqual(oneShot.users.edges.map((edge) => edge.node.id));
    });
  }

  it("searches email, username and display name, and filters by role, status and verification", async () => {
    const count = async (filter: Record<string, unknown>) =>
      (await server.client.ok<UsersPage, unknown>(USERS, { filter, first: 1 }, { token: admin })).users.totalCount;
    expect(await count({ search: `${TAG}-` })).toBe(POPULATION);
    expect(await count({ search: `needle` })).toBe(POPULATION / 10);
    expect(await count({ search: `${TAG}_12` })).toBe(11);
    expect(await count({ search: "grace hop" })).toBe(Math.ceil(POPULATION / 7));
    expect(await count({ search: TAG, role: "MANAGER" })).toBe(POPULATION / 12);
    expect(await count({ search: TAG, verified: true })).toBe(POPULATION / 2);
    expect(await count({ search: TAG, status: "ACTIVE" })).toBe(POPULATION);
    expect(await count({ search: "%" })).toBe(0);
    const page = await server.client.ok<UsersPage, unknown>(USERS, { filter: { search: TAG, role: "MANAGER" }, first: 3 }, { token: admin });
    for (const edge of page.users.edges) expect(edge.node.roles).toEqual(expect.arrayContaining(["MANAGER", "USER"]));
  });

  it("refuses a forged cursor and an out-of-range page size", async () => {
    const forged = await server.client.request(USERS, { first: 5, after: "bm90LWEtY3Vyc29y" }, { token: admin });
    expect(errorCode(forged)).toBe("BAD_USER_INPUT");
    expect(errorCode(await server.client.request(USERS, { first: 5000 }, { token: admin }))).toBe("BAD_USER_INPUT");
  });

  it("lets users:read holders list and nobody else", async () => {
    const plain = await registerUser(server.client);
    expect(errorCode(await server.client.request(USERS, { first: 1 }, { token: plain.accessToken }))).toBe("FORBIDDEN");
    expect(errorCode(await server.client.request(USERS, { first: 1 }))).toBe("UNAUTHENTICATED");
    // Granted behind the server's back (role management has its own tests): a new session sees it.
    await server.app.database.db.insert(userRoles).values({ userId: plain.user.id, roleName: "COMPLIANCE_OFFICER" });
    const officerToken = (await loginUser(server.client, plain.user.email)).accessToken;
    const officer = await server.client.ok<UsersPage, unknown>(USERS, { first: 1 }, { token: officerToken });
    expect(officer.users.edges[0]?.node.email).toEqual(expect.any(String));
    const create = await server.client.request(
      `mutation { createUser(input: { email: "${uniqueEmail()}" }) { id } }`,
      {},
      { token: officerToken },
    );
    expect(errorCode(create)).toBe("FORBIDDEN");
  });
});

describe("account administration", () => {
  const mutate = (query: string, variables: Record<string, unknown>, token = admin) => server.client.request(query, variables, { token });

  it("creates a user by invitation; the invite link sets the password", async () => {
    const email = uniqueEmail("invited");
    const created = await mutate(`mutation ($email: String!) { createUser(input: { email: $email, roles: ["MANAGER"] }) { id roles } }`, { email });
    expect(created.errors).toBeUndefined();
    expect((created.data as { createUser: { roles: string[] } }).createUser.roles).toContain("MANAGER");
    const token = await tokenFromMail(server, email, "invite");
    await server.client.ok(ResetPasswordDocument, { token, newPassword: "a brand new passphrase" });
    expect((await loginUser(server.client, email, "a brand new passphrase")).user.roles).toContain("MANAGER");
  });

  it("disables (ending sessions) and enables an account", async () => {
    const user = await registerUser(server.client);
    expect(errorCode(await mutate(`mutation ($id: ID!) { disableUser(id: $id) { status } }`, { id: user.user.id }))).toBeUndefined();
    expect(errorCode(await server.client.request(MeDocument, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
    const refused = await server.client.request(LoginDocument, { input: { identifier: user.user.email, password: PASSWORD } });
    expect(refused.errors?.[0]?.message).toMatch(/disabled/);
    await mutate(`mutation ($id: ID!) { enableUser(id: $id) { status } }`, { id: user.user.id });
    await loginUser(server.client, user.user.email);
  });

  it("soft-deletes an account: its email can register again, and its history stays", async () => {
    const user = await registerUser(server.client);
    expect((await mutate(`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: user.user.id })).data).toEqual({ deleteUser: true });
    expect(errorCode(await server.client.request(MeDocument, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
    const again = await server.client.ok(RegisterDocument, { input: { email: user.user.email, password: PASSWORD } });
    expect(again.register.user.id).not.toBe(user.user.id);
    const lookup = await mutate(`query ($id: ID!) { user(id: $id) { id } }`, { id: user.user.id });
    expect(lookup.data).toEqual({ user: null });
  });

  it("never leaves the server without an admin", async () => {
    const me = await server.client.ok(MeDocument, {}, { token: admin });
    const self = await mutate(`mutation ($id: ID!) { disableUser(id: $id) { id } }`, { id: me.me?.id });
    expect(errorCode(self)).toBe("BAD_USER_INPUT");
    const second = await mutate(`mutation ($email: String!) { createUser(input: { email: $email, password: "second admin passphrase", roles: ["ADMIN"] }) { id } }`, {
      email: uniqueEmail("admin2"),
    });
    const secondId = (second.data as { createUser: { id: string } }).createUser.id;
    expect((await mutate(`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: secondId })).data).toEqual({ deleteUser: true });
    const last = await mutate(`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: me.me?.id });
    expect(errorCode(last)).toBe("CONFLICT");
    expect(last.errors?.[0]?.message).toMatch(/last administrator/);
  });

  it("lets people edit their own profile", async () => {
    const user = await registerUser(server.client);
    const updated = await server.client.request(
      `mutation { updateMe(input: { displayName: "Ada L.", username: "ada_${TAG}" }) { displayName username } }`,
      {},
      { token: user.accessToken },
    );
    expect(updated.data).toEqual({ updateMe: { displayName: "Ada L.", username: `ada_${TAG}` } });
  });
});

describe("sessions and the token check", () => {
  it("ends one session, all others, or (as admin) everyone's", async () => {
    const user = await registerUser(server.client);
    const second = await loginUser(server.client, user.user.email);
    const third = await loginUser(server.client, user.user.email);
    const stranger = await registerUser(server.client);
    const foreign = await server.client.request(`mutation ($id: ID!) { revokeSession(id: $id) }`, { id: user.sessionId }, { token: stranger.accessToken });
    expect(errorCode(foreign)).toBe("FORBIDDEN");
    await server.client.ok(`mutation ($id: ID!) { revokeSession(id: $id) }`, { id: second.sessionId }, { token: user.accessToken });
    expect(errorCode(await server.client.request(MeDocument, {}, { token: second.accessToken }))).toBe("UNAUTHENTICATED");
    const others = await server.client.ok<{ revokeOtherSessions: number }, unknown>(`mutation { revokeOtherSessions }`, {}, { token: third.accessToken });
    expect(others.revokeOtherSessions).toBe(1);
    expect((await server.client.ok(MeDocument, {}, { token: third.accessToken })).me?.id).toBe(user.user.id);
    const all = await server.client.ok<{ revokeUserSessions: number }, unknown>(
      `mutation ($userId: ID!) { revokeUserSessions(userId: $userId) }`,
      { userId: user.user.id },
      { token: admin },
    );
    expect(all.revokeUserSessions).toBe(1);
    expect(errorCode(await server.client.request(MeDocument, {}, { token: third.accessToken }))).toBe("UNAUTHENTICATED");
  });

  it("tells another service whether a token is live, with subject, roles and permissions", async () => {
    const status = `query ($token: String!) { tokenStatus(token: $token) { active subject sessionId roles permissions expiresAt } }`;
    const user = await registerUser(server.client);
    const live = await server.client.ok<{ tokenStatus: Record<string, unknown> }, unknown>(status, { token: user.accessToken });
    expect(live.tokenStatus).toMatchObject({ active: true, subject: user.user.id, sessionId: user.sessionId, roles: ["USER"], permissions: [] });
    const adminStatus = await server.client.ok<{ tokenStatus: { permissions: string[] } }, unknown>(status, { token: admin });
    expect(adminStatus.tokenStatus.permissions).toEqual(expect.arrayContaining(["users:write", "audit:read"]));
    await server.client.ok(`mutation { logout }`, {}, { token: user.accessToken });
    const ended = await server.client.ok<{ tokenStatus: Record<string, unknown> }, unknown>(status, { token: user.accessToken });
    expect(ended.tokenStatus).toMatchObject({ active: false, subject: null, roles: [] });
    const garbage = await server.client.ok<{ tokenStatus: Record<string, unknown> }, unknown>(status, { token: "garbage" });
    expect(garbage.tokenStatus.active).toBe(false);
  });
});
