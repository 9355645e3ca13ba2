import fc from "fast-check";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentWithKey } from "../support/agent-fixtures";
import { loginUser, registerUser } from "../support/fixtures";
import { send, Tally } from "../support/fuzz-oracle";
import { toRequestBody, valueFor } from "../support/fuzz-values";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #9, D.1: every root field of the served schema, called with generated arguments by
 * every kind of caller, for a time budget (FUZZ_BUDGET_MS, default 45 s). Any 5xx,
 * INTERNAL_SERVER_ERROR, hang or leaked internal fails the run with fast-check's seed and
 * counterexample; the count of responses by code is printed.
 */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 45_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Callers are made afresh this often: a fuzzed logout or deleteUser may end one. */
const CALLERS_TTL = 150;

type CallerKind = "anonymous" | "user" | "admin" | "agent";
interface Callers {
  tokens: Record<CallerKind, string | undefined>;
  ids: string[];
}

let server: TestServer;
let schema: GraphQLSchema;
let callers: Callers;
const tally = new Tally();

/** Fresh callers of each kind, and ids that exist (users, an agent, its key, a policy, an action). */
async function makeCallers(): Promise<Callers> {
  const { client } = server;
  const admin = await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const owner = await registerUser(client);
  const agent = await createAgentWithKey(client, owner);
  const policy = await client.request<{ createPolicy: { id: string } }, unknown>(
    `mutation { createPolicy(input: { name: "fuzz", scope: AGENT, scopeId: "${agent.id}", rules: [{ pattern: "llm.*", effect: "ALLOW" }] }) { id } }`,
    {},
    { token: admin.accessToken },
  );
  const action = await client.request<{ submitAgentAction: { id: string } }, unknown>(
    `mutation { submitAgentAction(input: { action: "llm.chat", estimatedCost: "1" }) { id } }`,
    {},
    agent.auth,
  );
  const keyId = agent.key.slice("aik_".length).split(".")[0] as string;
  const ids = [admin.user.id, owner.user.id, agent.id, keyId, policy.data?.createPolicy.id, action.data?.submitAgentAction.id];
  return {
    tokens: { anonymous: undefined, user: owner.accessToken, admin: admin.accessToken, agent: agent.key },
    ids: ids.filter((id): id is string => typeof id === "string"),
  };
}

function rootFields(): { operation: "query" | "mutation"; field: GraphQLField<unknown, unknown> }[] {
  const query = Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => ({ operation: "query" as const, field }));
  const mutation = Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => ({ operation: "mutation" as const, field }));
  return [...query, ...mutation];
}

/** `mutation ($a0: T!, …) { field(arg: $a0, …) { __typename } }`: every argument through a variable. */
function documentFor(operation: string, field: GraphQLField<unknown, unknown>): string {
  const definitions = field.args.map((arg, i) => `$a${i}: ${arg.type.toString()}`);
  const args = field.args.map((arg, i) => `${arg.name}: $a${i}`);
  const selection = isCompositeType(getNamedType(field.type)) ? " { __typename }" : "";
  return `${operation}${definitions.length ? ` (${definitions.join(", ")})` : ""} { ${field.name}${args.length ? `(${args.join(", ")})` : ""}${selection} }`;
}

function requestArbitrary() {
  const ids = fc.constantFrom(...callers.ids);
  const perField = rootFields().map(({ operation, field }) => {
    const variables = fc.tuple(...field.args.map((arg) => valueFor(arg.type, ids)));
    return fc.record({
      label: fc.constant(`${operation} ${field.name}`),
      query: fc.constant(documentFor(operation, field)),
      variables: variables.map((values) => Object.fromEntries(values.map((value, i) => [`a${i}`, value]))),
    });
  });
  return fc.record({
    caller: fc.constantFrom<CallerKind>("anonymous", "user", "admin", "agent"),
    request: fc.oneof(...perField),
  });
}

beforeAll(async () => {
  server = await startTestServer();
  const introspection = await server.client.ok<IntrospectionQuery, unknown>(getIntrospectionQuery());
  schema = buildClientSchema(introspection);
  callers = await makeCallers();
}, 60_000);

afterAll(async () => {
  console.log(`fuzz-root-fields [${server?.backend}] ${tally.total} responses by code: ${tally.summary()}`);
  await server?.close();
});

describe("fuzzing every root field", () => {
  it(
    "answers every generated request with a typed error or data, never a 5xx, INTERNAL_SERVER_ERROR, hang or leak",
    async () => {
      expect(rootFields().length).toBeGreaterThan(50);
      let sent = 0;
      const property = fc.asyncProperty(requestArbitrary(), async ({ caller, request }) => {
        sent += 1;
        if (sent % CALLERS_TTL === 0) callers = await makeCallers();
        const token = callers.tokens[caller];
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
        const body = toRequestBody({ query: request.query, variables: request.variables });
        const outcome = await send(`${server.url}/graphql`, { method: "POST", headers, body });
        tally.add(outcome, `${caller} ${request.label}`);
        if (outcome.problems.length > 0) {
          throw new Error(`${caller} ${request.label} -> ${outcome.status} ${outcome.problems.join(", ")}: ${outcome.text.slice(0, 500)}`);
        }
      });
      await fc.assert(property, {
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: BUDGET_MS,
        markInterruptAsFailure: false,
        seed: SEED,
        endOnFailure: true,
      });
      expect(tally.failures).toEqual([]);
      expect(tally.total).toBeGreaterThan(0);
    },
    BUDGET_MS + 120_000,
  );
});
