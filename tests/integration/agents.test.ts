import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentApiKeys } from "../../src/db/schema";
import { MeDocument } from "../generated/graphql";
import { loginUser, registerUser } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

const clock = new ManualClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.close());

const CREATE_AGENT = `mutation ($name: String!) { createAgent(input: { name: $name }) { id name status ownerId } }`;
const CREATE_KEY = `mutation ($agentId: ID!, $input: CreateAgentApiKeyInput) {
  createAgentApiKey(agentId: $agentId, input: $input) { key apiKey { id prefix expiresAt } } }`;
const CURRENT = `{ currentAgent { id name } }`;

async function agentWithKey(token: string, expiresAt?: string) {
  const { createAgent } = await server.client.ok<{ createAgent: { id: string } }, unknown>(CREATE_AGENT, { name: "research bot" }, { token });
  const { createAgentApiKey } = await server.client.ok<{ createAgentApiKey: { key: string; apiKey: { id: string; prefix: string } } }, unknown>(
    CREATE_KEY,
    { agentId: createAgent.id, input: expiresAt ? { expiresAt } : null },
    { token },
  );
  return { agentId: createAgent.id, key: createAgentApiKey.key, keyId: createAgentApiKey.apiKey.id, prefix: createAgentApiKey.apiKey.prefix };
}

describe("agents and their API keys", () => {
  it("authenticates an agent by key, shown once and stored only as a hash", async () => {
    const owner = await registerUser(server.client);
    const { agentId, key, keyId, prefix } = await agentWithKey(owner.accessToken);
    expect(key).toMatch(/^aik_[\w-]+\.[\w-]+$/);
    expect(key.startsWith(prefix)).toBe(true);
    const [stored] = await server.app.database.db.select().from(agentApiKeys).where(eq(agentApiKeys.id, keyId));
    expect(JSON.stringify(stored)).not.toContain(key.split(".")[1]);
    const listed = await server.client.ok<{ agentApiKeys: Record<string, unknown>[] }, unknown>(
      `query ($id: ID!) { agentApiKeys(agentId: $id) { id prefix revokedAt } }`,
      { id: agentId },
      { token: owner.accessToken },
    );
    expect(listed.agentApiKeys).toEqual([{ id: keyId, prefix, revokedAt: null }]);
    expect((await server.client.ok<{ currentAgent: { id: string } }, unknown>(CURRENT, {}, { token: key })).currentAgent.id).toBe(agentId);
  });

  it("keeps agents to agent operations and people away from them", async () => {
    const owner = await registerUser(server.client);
    const { key } = await agentWithKey(owner.accessToken);
    expect(errorCode(await server.client.request(MeDocument, {}, { token: key }))).toBe("FORBIDDEN");
    expect(errorCode(await server.client.request(`{ agents { id } }`, {}, { token: key }))).toBe("FORBIDDEN");
    expect(errorCode(await server.client.request(CURRENT, {}, { token: owner.accessToken }))).toBe("FORBIDDEN");
    expect(errorCode(await server.client.request(CURRENT, {}))).toBe("UNAUTHENTICATED");
    expect(errorCode(await server.client.request(CURRENT, {}, { token: "aik_forged.forgedsecretforgedsecretforgedsecret" }))).toBe("UNAUTHENTICATED");
  });

  it("rotates: a revoked key stops at once while another live key works", async () => {
    const owner = await registerUser(server.client);
    const first = await agentWithKey(owner.accessToken);
    const second = await server.client.ok<{ createAgentApiKey: { key: string } }, unknown>(CREATE_KEY, { agentId: first.agentId }, { token: owner.accessToken });
    await server.client.ok(CURRENT, {}, { token: first.key });
    await server.client.ok(`mutation ($id: ID!) { revokeAgentApiKey(id: $id) }`, { id: first.keyId }, { token: owner.accessToken });
    expect(errorCode(await server.client.request(CURRENT, {}, { token: first.key }))).toBe("UNAUTHENTICATED");
    await server.client.ok(CURRENT, {}, { token: second.createAgentApiKey.key });
  });

  it("refuses keys of a suspended agent until it resumes, and expired keys", async () => {
    const owner = await registerUser(server.client);
    const { agentId, key } = await agentWithKey(owner.accessToken);
    await server.client.ok(CURRENT, {}, { token: key });
    await server.client.ok(`mutation ($id: ID!) { suspendAgent(id: $id) { status } }`, { id: agentId }, { token: owner.accessToken });
    expect(errorCode(await server.client.request(CURRENT, {}, { token: key }))).toBe("UNAUTHENTICATED");
    await server.client.ok(`mutation ($id: ID!) { resumeAgent(id: $id) { status } }`, { id: agentId }, { token: owner.accessToken });
    await server.client.ok(CURRENT, {}, { token: key });

    const expiring = await agentWithKey(owner.accessToken, new Date(clock.now().getTime() + 3_600_000).toISOString());
    await server.client.ok(CURRENT, {}, { token: expiring.key });
    clock.advance(3_600_000 + 1);
    const late = await server.client.request(CURRENT, {}, { token: expiring.key });
    expect(errorCode(late)).toBe("UNAUTHENTICATED");
    expect(late.errors?.[0]?.message).toMatch(/expired/);
  });

  it("lets owners, and agents:read / agents:write holders, see and manage agents; nobody else", async () => {
    const owner = await registerUser(server.client);
    const stranger = await registerUser(server.client);
    const { agentId } = await agentWithKey(owner.accessToken);
    const peek = await server.client.request(`query ($id: ID!) { agent(id: $id) { id } }`, { id: agentId }, { token: stranger.accessToken });
    expect(errorCode(peek)).toBe("NOT_FOUND");
    const rename = await server.client.request(`mutation ($id: ID!) { renameAgent(id: $id, name: "mine now") { id } }`, { id: agentId }, { token: stranger.accessToken });
    expect(errorCode(rename)).toBe("NOT_FOUND");
    expect((await server.client.ok<{ agents: unknown[] }, unknown>(`{ agents { id } }`, {}, { token: stranger.accessToken })).agents).toEqual([]);
    const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const renamed = await server.client.ok<{ renameAgent: { name: string } }, unknown>(
      `mutation ($id: ID!) { renameAgent(id: $id, name: "renamed by admin") { name } }`,
      { id: agentId },
      { token: admin.accessToken },
    );
    expect(renamed.renameAgent.name).toBe("renamed by admin");
    const all = await server.client.ok<{ agents: { id: string }[] }, unknown>(`{ agents { id } }`, {}, { token: admin.accessToken });
    expect(all.agents.map((agent) => agent.id)).toContain(agentId);
  });
});
