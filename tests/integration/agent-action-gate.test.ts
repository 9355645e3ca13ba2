import "reflect-metadata";
import { eq } from "drizzle-orm";
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from "type-graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentActions } from "../../src/db/schema";
import { AgentActionGate, type GatedContext } from "../../src/graphql/agent-action-gate";
import { Auth } from "../../src/schema/directives";
import type { SessionCredentialsFragment } from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { expectRefused } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * The policy middleware on a mutation other than submitAgentAction: any resolver marked
 * `@AgentActionGate` runs only when the policy engine allowed the action it describes. Here
 * a stand-in "send a message" mutation (its work: appending to a list) is gated with
 * settle "on-success": the estimate is charged when the work succeeds and released when it
 * throws; a denied or held action never reaches the work; a retry does not repeat it.
 */
const sent: string[] = [];

@ObjectType()
class SendResult {
  @Field(() => String, { nullable: true })
  actionId!: string | null;

  @Field(() => String)
  status!: string;

  @Field(() => Int)
  sentSoFar!: number;
}

@Resolver()
class GatedMessageResolver {
  @Mutation(() => SendResult)
  @Auth({ agent: true })
  @AgentActionGate<{ to: string; key?: string | null }>({
    describe: ({ to, key }) => ({ action: "messages.send", resource: to, estimatedCost: 2_000_000n, idempotencyKey: key ?? null }),
    settle: "on-success",
    notRun: (row) => ({ actionId: row.id, status: row.status, sentSoFar: sent.length }),
  })
  sendTestMessage(
    @Arg("to", () => String) to: string,
    @Arg("key", () => String, { nullable: true }) _key: string | null,
    @Ctx() ctx: GatedContext,
  ): SendResult {
    if (to === "nobody") throw new Error("delivery failed");
    sent.push(to);
    return { actionId: ctx.agentAction?.id ?? null, status: "sent", sentSoFar: sent.length };
  }
}

const SEND = `mutation ($to: String!, $key: String) { sendTestMessage(to: $to, key: $key) { actionId status sentSoFar } }`;

let server: TestServer;
let admin: SessionCredentialsFragment;
beforeAll(async () => {
  server = await startTestServer({ extraResolvers: [GatedMessageResolver] });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
});
afterAll(() => server.close());

async function agentWith(rules: { pattern: string; effect: "ALLOW" | "DENY" | "REQUIRE_APPROVAL" }[], dayCap = 10): Promise<AgentWithKey> {
  const agent = await createAgentWithKey(server.client, await registerUser(server.client));
  await createPolicy(server.client, admin, { name: "gate", scope: "AGENT", scopeId: agent.id, rules, caps: [{ per: "AGENT", window: "DAY", limit: units(dayCap) }] });
  return agent;
}

const send = (agent: AgentWithKey, to: string, key?: string) =>
  server.client.request<{ sendTestMessage: { actionId: string | null; status: string; sentSoFar: number } }, unknown>(SEND, { to, key }, agent.auth);
const rowOf = async (id: string) => (await server.app.database.db.select().from(agentActions).where(eq(agentActions.id, id)))[0]!;

describe("@AgentActionGate on any mutation", () => {
  it("runs the work only when allowed, then charges the estimate", async () => {
    const agent = await agentWith([{ pattern: "messages.*", effect: "ALLOW" }]);
    const before = sent.length;
    const response = await send(agent, "ops@example.com");
    expect(response.errors).toBeUndefined();
    expect(sent.length).toBe(before + 1);
    expect(await rowOf(response.data!.sendTestMessage.actionId!)).toMatchObject({ status: "SETTLED", actualCost: 2_000_000n, reserved: 0n });
  });

  it("never reaches the work when denied: POLICY_DENIED, nothing sent", async () => {
    const agent = await agentWith([{ pattern: "messages.*", effect: "DENY" }]);
    const before = sent.length;
    expectRefused(await send(agent, "ops@example.com"), "POLICY_DENIED");
    const capped = await agentWith([{ pattern: "messages.*", effect: "ALLOW" }], 1);
    expectRefused(await send(capped, "ops@example.com"), "POLICY_DENIED");
    expect(sent.length).toBe(before);
  });

  it("releases the reservation when the work fails", async () => {
    const agent = await agentWith([{ pattern: "messages.*", effect: "ALLOW" }]);
    expect((await send(agent, "nobody")).errors).toBeDefined();
    const [row] = await server.app.database.db.select().from(agentActions).where(eq(agentActions.agentId, agent.id));
    expect(row).toMatchObject({ status: "CANCELLED", reserved: 0n });
  });

  it("holds the work for approval, and does not repeat work on a retry with the same key", async () => {
    const held = await agentWith([{ pattern: "messages.*", effect: "REQUIRE_APPROVAL" }]);
    const before = sent.length;
    const response = await send(held, "board@example.com");
    expect(response.data!.sendTestMessage).toMatchObject({ status: "PENDING_APPROVAL" });
    expect(sent.length).toBe(before);

    const agent = await agentWith([{ pattern: "messages.*", effect: "ALLOW" }]);
    const first = await send(agent, "ops@example.com", "msg-1");
    const retry = await send(agent, "ops@example.com", "msg-1");
    expect(retry.data!.sendTestMessage).toMatchObject({ actionId: first.data!.sendTestMessage.actionId, status: "SETTLED" });
    expect(sent.length).toBe(before + 1);
  });

  it("refuses people: a gated mutation is for agents only", async () => {
    const person = await registerUser(server.client);
    expectRefused(await server.client.request(SEND, { to: "x" }, { token: person.accessToken }), "FORBIDDEN");
  });
});
