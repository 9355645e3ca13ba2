import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths";
import { GrantRoleDocument } from "../generated/graphql";
import { as } from "../support/assertions";
import { loginUser, registerUser } from "../support/fixtures";
import type { GraphQLResponse, RequestOptions } from "../support/graphql-client";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";

/**
 * Runs the README's worked example of the policy model, step by step, as the principal each
 * step names, and asserts the outcome each step states ("ok", a decision, a status, or
 * "DENIED <reason code>"). The README is the script: change one and this test follows.
 */
const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
const start = readme.indexOf("### Worked example");
/** The section runs to the next heading of its level or above. */
const section = readme.slice(start, Math.min(...["\n## ", "\n### "].map((heading) => readme.indexOf(heading, start + 1)).filter((at) => at > 0)));
const HEADER = /^# step (\d+) as (\w+): (ok|ALLOWED|PENDING_APPROVAL|RESERVED|SETTLED|DENIED (\w+))/;
const steps = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => {
  const text = match[1] as string;
  const header = HEADER.exec(text);
  if (!header) throw new Error(`worked example block without a step header:\n${text}`);
  return { number: Number(header[1]), who: header[2] as string, expect: header[3] as string, deniedBy: header[4], text };
});

let server: TestServer;
const tokens: Record<string, RequestOptions> = {};
const variables: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  const admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const alice = await registerUser(server.client);
  const manager = await registerUser(server.client);
  await server.client.ok(GrantRoleDocument, { userId: manager.user.id, role: "MANAGER" }, as(admin));
  tokens.admin = as(admin);
  tokens.alice = as(alice);
  tokens.manager = as(await loginUser(server.client, manager.user.email, manager.password));
  variables.owner = alice.user.id;
});
afterAll(() => server.close());

/** The single root field's value of a response. */
const rootOf = (response: GraphQLResponse<Record<string, unknown>>) => Object.values(response.data ?? {})[0] as Record<string, unknown> | undefined;

describe("README worked example", () => {
  it("has its steps in order", () => {
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps.map((step) => step.number)).toEqual(steps.map((_, index) => index + 1));
  });

  it("every step has the outcome the README states", async () => {
    for (const step of steps) {
      const who = tokens[step.who];
      if (!who) throw new Error(`step ${step.number}: unknown principal ${step.who}`);
      const response = await server.client.request<Record<string, unknown>, Record<string, string>>(step.text, variables, who);
      const label = `step ${step.number}: ${JSON.stringify(response.errors ?? response.data)}`;
      if (step.deniedBy) {
        expect(response.errors?.[0]?.extensions, label).toMatchObject({ code: "POLICY_DENIED" });
        const extensions = response.errors![0]!.extensions as { decisionId: string; reasons: { code: string }[] };
        expect(extensions.reasons[0]?.code, label).toBe(step.deniedBy);
        variables[`step${step.number}`] = extensions.decisionId;
        continue;
      }
      expect(response.errors, label).toBeUndefined();
      const root = rootOf(response);
      if (step.expect === "ALLOWED" || step.expect === "PENDING_APPROVAL") expect(root?.decision, label).toBe(step.expect);
      if (step.expect === "RESERVED" || step.expect === "SETTLED") expect(root?.status, label).toBe(step.expect);
      if (typeof root?.id === "string") variables[`step${step.number}`] = root.id;
      if (root && "key" in root) tokens.agent = { token: root.key as string };
      if (step.text.includes("createAgent(")) variables.agent = root?.id as string;
    }
  });
});
