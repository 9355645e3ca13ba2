import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginUser, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { mailTo, tokenFromMail } from "../support/mailbox";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Authority over other accounts. A caller may hand out only what they hold, and may act on
 * another user (change, disable, enable, unlock, delete, end sessions, grant or revoke roles)
 * only when that user's roles confer nothing the caller lacks. Each refused call changes
 * nothing; the same calls on a user the caller outranks go through.
 */
let server: TestServer;
let admin: string;

const USER = `query ($id: ID!) { user(id: $id) { id email displayName status roles } }`;
type UserView = { user: { id: string; email: string; displayName: string | null; status: string; roles: string[] } };

async function gql(query: string, variables: Record<string, unknown>, token: string) {
  return server.client.request<Record<string, unknown>, Record<string, unknown>>(query, variables, { token });
}

async function createRole(name: string, permissions: string[], inherits: string[] = []) {
  await server.client.ok(
    `mutation ($input: CreateRoleInput!) { createRole(input: $input) { name } }`,
    { input: { name, permissions, inherits } },
    { token: admin },
  );
}

async function userWithRoles(roles: string[]) {
  const user = await registerUser(server.client);
  for (const role of roles) {
    await server.client.ok(`mutation ($id: ID!, $role: String!) { grantRole(userId: $id, role: $role) }`, { id: user.user.id, role }, { token: admin });
  }
  const fresh = await loginUser(server.client, user.user.email);
  return { id: user.user.id, email: user.user.email, token: fresh.accessToken, sessionId: (await liveSessionIds(user.user.id))[0] };
}

/** The user's live sessions, newest first. */
async function liveSessionIds(userId: string): Promise<string[]> {
  const data = await server.client.ok<{ sessions: { id: string; active: boolean }[] }, unknown>(
    `query ($id: ID) { sessions(userId: $id) { id active } }`,
    { id: userId },
    { token: admin },
  );
  return data.sessions.filter((session) => session.active).map((session) => session.id);
}

async function snapshot(id: string) {
  const data = await server.client.ok<UserView, unknown>(USER, { id }, { token: admin });
  return { ...data.user, liveSessions: await liveSessionIds(id) };
}

/** Every operation that acts on another user, as `(target) => [query, variables]`. */
const ACTS_ON_USER: Record<string, (target: { id: string; sessionId?: string }) => [string, Record<string, unknown>]> = {
  "updateUser(email)": (t) => [`mutation ($id: ID!) { updateUser(id: $id, input: { email: "${uniqueEmail("taken")}" }) { id } }`, { id: t.id }],
  "updateUser(displayName)": (t) => [`mutation ($id: ID!) { updateUser(id: $id, input: { displayName: "Renamed" }) { id } }`, { id: t.id }],
  disableUser: (t) => [`mutation ($id: ID!) { disableUser(id: $id) { id } }`, { id: t.id }],
  enableUser: (t) => [`mutation ($id: ID!) { enableUser(id: $id) { id } }`, { id: t.id }],
  unlockUser: (t) => [`mutation ($id: ID!) { unlockUser(userId: $id) }`, { id: t.id }],
  revokeUserSessions: (t) => [`mutation ($id: ID!) { revokeUserSessions(userId: $id) }`, { id: t.id }],
  revokeSession: (t) => [`mutation ($id: ID!) { revokeSession(id: $id) }`, { id: t.sessionId }],
  grantRole: (t) => [`mutation ($id: ID!) { grantRole(userId: $id, role: "HELPDESK") }`, { id: t.id }],
  revokeRole: (t) => [`mutation ($id: ID!) { revokeRole(userId: $id, role: "HELPDESK") }`, { id: t.id }],
  deleteUser: (t) => [`mutation ($id: ID!) { deleteUser(id: $id) }`, { id: t.id }],
};

let helpdesk: Awaited<ReturnType<typeof userWithRoles>>;
let roleAdmin: Awaited<ReturnType<typeof userWithRoles>>;

beforeAll(async () => {
  server = await startTestServer();
  admin = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  await createRole("HELPDESK", ["users:read", "users:write", "roles:write"]);
  await createRole("USER_ADMIN", ["users:read", "users:write", "roles:write"]);
  helpdesk = await userWithRoles(["HELPDESK"]);
  roleAdmin = await userWithRoles(["USER_ADMIN"]);
});
afterAll(() => server.close());

describe("no escalation on any path that confers roles", () => {
  it("createUser cannot mint a role the caller does not hold (grantRole refuses it too)", async () => {
    const email = uniqueEmail("minted");
    const minted = await gql(`mutation ($email: String!) { createUser(input: { email: $email, roles: ["ADMIN"] }) { id } }`, { email }, roleAdmin.token);
    expect(errorCode(minted)).toBe("FORBIDDEN");
    expect(minted.errors?.[0]?.message).toMatch(/ADMIN/);
    const found = await server.client.ok<{ users: { totalCount: number } }, unknown>(
      `query ($q: String) { users(filter: { search: $q }) { totalCount } }`,
      { q: email },
      { token: admin },
    );
    expect(found.users.totalCount).toBe(0);

    const viaGrant = await gql(`mutation ($id: ID!) { grantRole(userId: $id, role: "ADMIN") }`, { id: helpdesk.id }, roleAdmin.token);
    expect(errorCode(viaGrant)).toBe("FORBIDDEN");
  });

  it("createUser with a custom role that confers more than the caller holds is refused", async () => {
    await createRole("AUDITOR_PLUS", ["audit:read"], ["USER_ADMIN"]);
    const response = await gql(`mutation { createUser(input: { email: "${uniqueEmail()}", roles: ["AUDITOR_PLUS"] }) { id } }`, {}, roleAdmin.token);
    expect(errorCode(response)).toBe("FORBIDDEN");
    expect(response.errors?.[0]?.message).toMatch(/audit:read/);
  });

  it("createUser with roles the caller holds goes through", async () => {
    const created = await gql(`mutation { createUser(input: { email: "${uniqueEmail()}", roles: ["USER_ADMIN"] }) { roles } }`, {}, roleAdmin.token);
    expect(created.errors).toBeUndefined();
    expect((created.data as { createUser: { roles: string[] } }).createUser.roles).toContain("USER_ADMIN");
  });
});

describe("no acting on a user whose roles confer more than the caller's", () => {
  for (const targetRoles of [["COMPLIANCE_OFFICER"], ["ADMIN"], ["HELPDESK", "MANAGER"]]) {
    for (const [name, operation] of Object.entries(ACTS_ON_USER)) {
      it(`HELPDESK cannot ${name} a ${targetRoles.join("+")} holder, and nothing changes`, async () => {
        const target = await userWithRoles(targetRoles);
        if (name === "enableUser" || name === "unlockUser") {
          await server.client.ok(`mutation ($id: ID!) { disableUser(id: $id) { id } }`, { id: target.id }, { token: admin });
        }
        const before = await snapshot(target.id);
        const [query, variables] = operation(target);
        const response = await gql(query, variables, helpdesk.token);
        expect(errorCode(response), JSON.stringify(response.errors)).toBe("FORBIDDEN");
        expect(await snapshot(target.id)).toEqual(before);
      });
    }
  }

  for (const [name, operation] of Object.entries(ACTS_ON_USER)) {
    it(`HELPDESK may ${name} a user it outranks`, async () => {
      const target = await userWithRoles(name === "revokeRole" ? ["HELPDESK"] : []);
      if (name === "enableUser") await server.client.ok(`mutation ($id: ID!) { disableUser(id: $id) { id } }`, { id: target.id }, { token: admin });
      const [query, variables] = operation(target);
      const response = await gql(query, variables, helpdesk.token);
      expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
    });
  }
});

describe("an email change by someone else is confirmed at the new address and told to the old one", () => {
  it("the account takeover through updateUser(email) fails against a superior", async () => {
    const officer = await userWithRoles(["COMPLIANCE_OFFICER"]);
    const response = await gql(`mutation ($id: ID!, $email: String!) { updateUser(id: $id, input: { email: $email }) { id } }`, { id: officer.id, email: helpdesk.email }, helpdesk.token);
    expect(errorCode(response)).toBe("FORBIDDEN");
    expect((await snapshot(officer.id)).email).toBe(officer.email);
  });

  it("an admin's change takes effect only when the new address confirms it", async () => {
    const user = await userWithRoles([]);
    const newEmail = uniqueEmail("moved");
    const answer = await server.client.ok<{ updateUser: { email: string } }, unknown>(
      `mutation ($id: ID!, $email: String!) { updateUser(id: $id, input: { email: $email }) { email } }`,
      { id: user.id, email: newEmail },
      { token: admin },
    );
    expect(answer.updateUser.email).toBe(user.email);
    expect((await mailTo(server, user.email, "email-change-requested")).length).toBe(1);
    const token = await tokenFromMail(server, newEmail, "email-change-verify");
    await server.client.ok(`mutation ($token: String!) { confirmEmailChange(token: $token) }`, { token });
    expect((await snapshot(user.id)).email).toBe(newEmail);
    expect((await mailTo(server, user.email, "email-changed")).length).toBe(1);
  });
});

describe("no managing the agents of a user whose roles confer more than the caller's", () => {
  const AGENT_OPERATIONS: Record<string, (agentId: string, keyId: string) => [string, Record<string, unknown>]> = {
    createAgentApiKey: (id) => [`mutation ($id: ID!) { createAgentApiKey(agentId: $id) { key } }`, { id }],
    revokeAgentApiKey: (_id, keyId) => [`mutation ($id: ID!) { revokeAgentApiKey(id: $id) }`, { id: keyId }],
    renameAgent: (id) => [`mutation ($id: ID!) { renameAgent(id: $id, name: "renamed") { id } }`, { id }],
    suspendAgent: (id) => [`mutation ($id: ID!) { suspendAgent(id: $id) { id } }`, { id }],
    deleteAgent: (id) => [`mutation ($id: ID!) { deleteAgent(id: $id) }`, { id }],
  };

  async function agentOf(owner: { token: string }) {
    const { createAgent } = await server.client.ok<{ createAgent: { id: string } }, unknown>(`mutation { createAgent(input: { name: "owned" }) { id } }`, {}, { token: owner.token });
    const { createAgentApiKey } = await server.client.ok<{ createAgentApiKey: { apiKey: { id: string } } }, unknown>(
      `mutation ($id: ID!) { createAgentApiKey(agentId: $id) { apiKey { id } } }`,
      { id: createAgent.id },
      { token: owner.token },
    );
    return { agentId: createAgent.id, keyId: createAgentApiKey.apiKey.id };
  }

  let operator: Awaited<ReturnType<typeof userWithRoles>>;
  beforeAll(async () => {
    await createRole("AGENT_OPS", ["agents:read", "agents:write"]);
    operator = await userWithRoles(["AGENT_OPS"]);
  });

  for (const [name, operation] of Object.entries(AGENT_OPERATIONS)) {
    it(`AGENT_OPS cannot ${name} on an ADMIN's agent, and may on a plain user's`, async () => {
      const superior = await agentOf(await userWithRoles(["ADMIN"]));
      const [query, variables] = operation(superior.agentId, superior.keyId);
      expect(errorCode(await gql(query, variables, operator.token))).toBe("FORBIDDEN");
      const plain = await agentOf(await userWithRoles([]));
      const [allowedQuery, allowedVariables] = operation(plain.agentId, plain.keyId);
      const allowed = await gql(allowedQuery, allowedVariables, operator.token);
      expect(allowed.errors, JSON.stringify(allowed.errors)).toBeUndefined();
    });
  }
});
