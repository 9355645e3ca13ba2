import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCodeAt } from "../../src/auth/totp";
import { BeginMfaEnrollmentDocument, ConfirmMfaEnrollmentDocument } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * A role that requires MFA restricts every session of its holder until MFA is enrolled,
 * including sessions opened before the role was granted: the restriction follows the
 * user's current roles on every request, not the roles they had at sign-in.
 */
let server: TestServer;
let admin: string;
const USERS = `{ users(first: 1) { totalCount } }`;
const TOKEN_STATUS = `query ($token: String!) { tokenStatus(token: $token) { active restriction } }`;

beforeAll(async () => {
  server = await startTestServer({ env: { MFA_REQUIRED_ROLES: "ADMIN" } });
  // The bootstrap admin has no MFA either: its own session is restricted, so grants are
  // made by a second admin that enrols first.
  const bootstrap = (await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  const { beginMfaEnrollment } = await server.client.ok(BeginMfaEnrollmentDocument, {}, { token: bootstrap });
  await server.client.ok(ConfirmMfaEnrollmentDocument, { code: totpCodeAt(beginMfaEnrollment.secret, new Date()) }, { token: bootstrap });
  admin = bootstrap;
});
afterAll(() => server.close());

async function grant(userId: string, role: string) {
  await server.client.ok(`mutation ($id: ID!, $role: String!) { grantRole(userId: $id, role: $role) }`, { id: userId, role }, { token: admin });
}

describe("a role that requires MFA, granted to a live session", () => {
  it("restricts that session on its next request, until MFA is enrolled", async () => {
    const user = await registerUser(server.client);
    await grant(user.user.id, "ADMIN");

    const refused = await server.client.request(USERS, {}, { token: user.accessToken });
    expect(errorCode(refused)).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.extensions?.restriction).toBe("MFA_ENROLLMENT");
    const status = await server.client.ok<{ tokenStatus: { active: boolean; restriction: string | null } }, unknown>(TOKEN_STATUS, { token: user.accessToken });
    expect(status.tokenStatus.restriction).toBe("MFA_ENROLLMENT");

    // A refreshed token says so too, in the schema's spelling.
    const refreshed = await server.client.ok<{ refresh: { accessToken: string; restriction: string | null } }, unknown>(
      `mutation ($t: String!) { refresh(refreshToken: $t) { accessToken restriction } }`,
      { t: user.refreshToken },
    );
    expect(refreshed.refresh.restriction).toBe("MFA_ENROLLMENT");
    expect((jwt.decode(refreshed.refresh.accessToken) as { restriction?: string }).restriction).toBe("MFA_ENROLLMENT");

    const token = refreshed.refresh.accessToken;
    const { beginMfaEnrollment } = await server.client.ok(BeginMfaEnrollmentDocument, {}, { token });
    await server.client.ok(ConfirmMfaEnrollmentDocument, { code: totpCodeAt(beginMfaEnrollment.secret, new Date()) }, { token });
    const allowed = await server.client.request(USERS, {}, { token });
    expect(allowed.errors).toBeUndefined();
  });

  it("lifts the restriction when the role is revoked again", async () => {
    const user = await registerUser(server.client);
    await grant(user.user.id, "ADMIN");
    expect(errorCode(await server.client.request(`{ sessions { id } }`, {}, { token: user.accessToken }))).toBe("FORBIDDEN");
    await server.client.ok(`mutation ($id: ID!) { revokeRole(userId: $id, role: "ADMIN") }`, { id: user.user.id }, { token: admin });
    const after = await server.client.request(`{ sessions { id } }`, {}, { token: user.accessToken });
    expect(after.errors).toBeUndefined();
  });

  it("does not touch the sessions of holders of roles that need no MFA", async () => {
    const user = await registerUser(server.client);
    await grant(user.user.id, "MANAGER");
    const allowed = await server.client.request(USERS, {}, { token: user.accessToken });
    expect(allowed.errors).toBeUndefined();
  });
});
