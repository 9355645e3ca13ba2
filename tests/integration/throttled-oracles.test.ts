import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WhatIfPolicyDocument } from "../generated/graphql";
import { createAgentWithKey } from "../support/agent-fixtures";
import { registerUser, uniqueUsername } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Calls that cost the server real work, or that answer a question about other accounts,
 * are throttled: a what-if replays up to 10,000 decisions, and a refused username says the
 * name is taken.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { RATE_LIMIT_SCALE: "1" } });
});
afterAll(() => server.close());

describe("throttled calls", () => {
  it("whatIfPolicy: ten a minute from one address, then RATE_LIMITED", async () => {
    const owner = await registerUser(server.client);
    const agent = await createAgentWithKey(server.client, owner);
    const policy = { name: "try", scope: "AGENT" as const, scopeId: agent.id, rules: [{ pattern: "llm.*", effect: "DENY" as const }] };
    const codes: unknown[] = [];
    for (let i = 0; i < 11; i += 1) {
      codes.push(errorCode(await server.client.request(WhatIfPolicyDocument, { policy }, { token: owner.accessToken })));
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(undefined));
    expect(codes[10]).toBe("RATE_LIMITED");
  });

  it("updateMe(username) cannot be used to probe for taken usernames at will", async () => {
    const holder = await registerUser(server.client, { username: uniqueUsername("holder") });
    const prober = await registerUser(server.client);
    const codes: unknown[] = [];
    for (let i = 0; i < 25; i += 1) {
      const username = i % 2 === 0 ? (holder.user.username as string) : uniqueUsername("probe");
      codes.push(errorCode(await server.client.request(`mutation ($u: String) { updateMe(input: { username: $u }) { id } }`, { u: username }, { token: prober.accessToken })));
    }
    expect(codes).toContain("CONFLICT");
    expect(codes.at(-1)).toBe("RATE_LIMITED");
  });
});
