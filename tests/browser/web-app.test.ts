import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentClient, PolicyDeniedError } from "../../clients/agent/src";
import { totpCodeAt } from "../../src/auth/totp";
import { AgentActionsDocument, CompleteMfaLoginDocument, GrantRoleDocument, LoginDocument, MeDocument } from "../generated/graphql";
import { createPolicy, units } from "../support/agent-fixtures";
import { as } from "../support/assertions";
import { loginUser, PASSWORD, registerUser, uniqueEmail } from "../support/fixtures";
import { errorCode } from "../support/graphql-client";
import { mailTo } from "../support/mailbox";
import { ManualClock } from "../support/manual-clock";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../support/test-server";
import { keepFailures, launchChromium, openVisitor, requireBuiltWebApp, type Visitor } from "./support/chromium";

/**
 * The built web app (dist/web, served at /app) in headless Chromium against a real server:
 * one person's way from signing up to watching an agent's spend, another's approval, and
 * the session surviving an expired access token and a reload. Each step builds on the
 * last, in order. Runs once, in the embedded pass (see vitest.config.mts).
 */
const clock = new ManualClock();
const TOTP_STEP = 30_000;
let server: TestServer;
let browser: Browser;
let admin: { accessToken: string };
const people: { owner?: Visitor; approver?: Visitor } = {};
const owner = { email: uniqueEmail("owner"), password: "violet staircase under moonlight", recoveryCodes: [] as string[], secret: "" };
const agent = { id: "", name: "research bot", key: "" };
let approverEmail = "";

beforeAll(async () => {
  requireBuiltWebApp();
  server = await startTestServer({ clock });
  admin = await loginUser(server.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  browser = await launchChromium();
  people.owner = await openVisitor(browser, { baseURL: server.url });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A browser step: on failure its pages' screenshots and console logs are kept. */
const step = (name: string, run: (page: Page) => Promise<void>) =>
  it(name, () => keepFailures(name, people, () => run(people.owner!.page)), 60_000);

const status = (within: Page | Locator, text: string | RegExp) => within.getByRole("status").filter({ hasText: text });

describe("the web app in a browser", () => {
  step("signs up, opens the emailed verification link, and enrols MFA from the QR code's key", async (page) => {
    await page.goto("/app/");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "Agents" }).waitFor()).resolves.toBeUndefined();

    // The link in the email opens the app's landing page, which posts the token back.
    const [mail] = await mailTo(server, owner.email, "verify-email");
    const link = new URL(/http\S+verify-email\?token=\S+/.exec(mail!.TextBody)![0]);
    expect(link.pathname).toBe("/app/verify-email");
    await page.goto(link.pathname + link.search);
    await status(page, "Your email address is verified.").waitFor();

    await page.getByRole("link", { name: "Continue" }).click();
    await page.getByRole("link", { name: "Security" }).click();
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const qr = page.getByRole("img", { name: "QR code to scan with your authenticator app" });
    await qr.waitFor();
    expect(await qr.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(100);
    owner.secret = (await page.getByLabel("Setup key").textContent()) ?? "";
    await page.getByLabel("Code from the app").fill(totpCodeAt(owner.secret, clock.now()));
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    owner.recoveryCodes = await codes.allTextContents();
    expect(owner.recoveryCodes).toHaveLength(10);
    await page.getByRole("button", { name: "I have saved them" }).click();
    await page.getByText("Two-factor authentication is on: signing in asks for a code").waitFor();
  });

  step("signs in with the MFA step: a wrong code is refused, the app's code or a recovery code lets in", async (page) => {
    const signIn = async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Email or username").fill(owner.email);
      await page.getByLabel("Password").fill(owner.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Two-factor check" }).waitFor();
    };
    await signIn();
    await page.getByLabel("Authentication code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("alert").waitFor();
    clock.advance(TOTP_STEP); // the enrolment used the current step's code
    await page.getByLabel("Authentication code").fill(totpCodeAt(owner.secret, clock.now()));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();

    await signIn();
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(owner.recoveryCodes.shift()!);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
  });

  step("lists the sessions, revokes one, then signs out everywhere else", async (page) => {
    const elsewhere = async (userAgent: string) => {
      const { login } = await server.client.ok(LoginDocument, { input: { identifier: owner.email, password: owner.password } }, { headers: { "user-agent": userAgent } });
      if (login.__typename !== "MfaChallenge") throw new Error("expected an MFA challenge");
      const input = { challengeToken: login.challengeToken, recoveryCode: owner.recoveryCodes.shift()! };
      return (await server.client.ok(CompleteMfaLoginDocument, { input }, { headers: { "user-agent": userAgent } })).completeMfaLogin;
    };
    const laptop = await elsewhere("Laptop/1.0");
    const phone = await elsewhere("Phone/2.0");

    await page.getByRole("link", { name: "Sessions" }).click();
    const rows = page.getByRole("row", { name: /^Session from/ });
    await page.getByRole("row", { name: "Session from Phone" }).waitFor();
    expect(await rows.count()).toBe(3);
    await expect(page.getByRole("row", { name: /^Session from Chrome/ }).getByText("this session").count()).resolves.toBe(1);

    await page.getByRole("row", { name: "Session from Laptop" }).getByRole("button", { name: "Revoke" }).click();
    await status(page, "The session has ended.").waitFor();
    await page.getByRole("row", { name: "Session from Laptop" }).waitFor({ state: "detached" });
    expect(errorCode(await server.client.request(MeDocument, {}, as(laptop)))).toBe("UNAUTHENTICATED");
    expect((await server.client.ok(MeDocument, {}, as(phone))).me?.email).toBe(owner.email);

    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await status(page, "Signed out everywhere else (1 session).").waitFor();
    expect(await rows.count()).toBe(1);
    expect(errorCode(await server.client.request(MeDocument, {}, as(phone)))).toBe("UNAUTHENTICATED");
  });

  step("creates an agent and an API key, shown once with a copy button", async (page) => {
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByLabel("Agent name").fill(agent.name);
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.getByRole("heading", { name: agent.name }).waitFor();
    agent.id = new URL(page.url()).pathname.split("/").at(-1)!;

    await page.getByLabel("Key name").fill("sdk");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByRole("region", { name: "New API key" });
    agent.key = (await shown.getByLabel("API key").textContent()) ?? "";
    expect(agent.key).toMatch(/^aik_/);
    await shown.getByRole("button", { name: "Copy key" }).click();
    await status(shown, "Copied").waitFor();
    // Runs in the page: the clipboard as the person would paste it.
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(agent.key);

    await shown.getByRole("button", { name: "Done" }).click();
    await shown.waitFor({ state: "detached" });
    await page.getByRole("cell", { name: "sdk" }).waitFor();
    expect(await page.content()).not.toContain(agent.key);
  });

  step("charts the agent's spend against its cap after actions through the SDK, with each decision and its reasons", async (page) => {
    await createPolicy(server.client, admin, {
      name: "research bot budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [
        { pattern: "llm.*", effect: "ALLOW" },
        { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
      ],
      caps: [{ per: "AGENT", window: "DAY", limit: units(100) }],
    });
    const sdk = createAgentClient({ url: server.url, apiKey: agent.key, retry: { baseMs: 10, maxMs: 50 } });
    const done = await sdk.governed({ action: "llm.completion", estimatedCost: units(30) }, async () => ({ actualCost: units(25), result: "ok" }));
    expect(done.status).toBe("SETTLED");
    const held = await sdk.governed({ action: "payments.transfer", estimatedCost: units(10), waitForApproval: false }, async () => {
      throw new Error("held work must not run");
    });
    expect(held.status).toBe("PENDING_APPROVAL");
    await expect(sdk.governed({ action: "llm.completion", estimatedCost: units(500) }, async () => ({ actualCost: 0, result: null }))).rejects.toBeInstanceOf(
      PolicyDeniedError,
    );

    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("img", { name: /DAY: spent 25\.00 of 100\.00 cap \(25%\)/ }).waitFor();
    const actions = page.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Decision" }) });
    await actions.getByRole("row", { name: "llm.completion settled" }).waitFor();
    await actions.getByRole("row", { name: "payments.transfer pending approval" }).waitFor();
    const denied = actions.getByRole("row", { name: "llm.completion denied" });
    await denied.getByText(/does not fit/).waitFor();
    await expect(page.getByRole("link", { name: "Approvals" }).count()).resolves.toBe(0);
  });

  step("an approver approves the held action from the approvals inbox; the owner's chart shows its reservation", async (page) => {
    const approver = await registerUser(server.client, { password: PASSWORD });
    approverEmail = approver.user.email;
    await server.client.ok(GrantRoleDocument, { userId: approver.user.id, role: "MANAGER" }, as(admin));
    people.approver = await openVisitor(browser, { baseURL: server.url });
    const inbox = people.approver.page;
    await inbox.goto("/app/sign-in");
    await inbox.getByLabel("Email or username").fill(approver.user.email);
    await inbox.getByLabel("Password").fill(PASSWORD);
    await inbox.getByRole("button", { name: "Sign in" }).click();
    await inbox.getByRole("link", { name: "Approvals" }).click();
    const row = inbox.getByRole("row", { name: "payments.transfer pending approval" });
    await row.getByRole("button", { name: "Approve payments.transfer" }).click();
    await status(inbox, "payments.transfer: reserved.").waitFor();
    await inbox.getByText("Nothing is waiting for approval.").waitFor();

    const { agentActions } = await server.client.ok(AgentActionsDocument, { filter: { agentId: agent.id, action: "payments.transfer" } }, as(approver));
    expect(agentActions.edges[0]?.node).toMatchObject({ status: "RESERVED", resolvedBy: approver.user.id });

    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("img", { name: /DAY: spent 35\.00 of 100\.00 cap \(35%\)/ }).waitFor();
  });

  step("renews an expired access token with one refresh shared by the requests that failed, retries them, and keeps the sign-in across a reload", async (page) => {
    const sent: string[] = [];
    page.on("request", (request) => {
      const operation = /"operationName":"(\w+)"/.exec(request.postData() ?? "")?.[1];
      if (operation) sent.push(operation);
    });
    const sdk = createAgentClient({ url: server.url, apiKey: agent.key, retry: { baseMs: 10, maxMs: 50 } });
    await sdk.governed({ action: "llm.chat", estimatedCost: units(5) }, async () => ({ actualCost: units(5), result: "ok" }));
    clock.advance(16 * 60_000); // past ACCESS_TOKEN_TTL (15 min): the token in memory has expired

    await page.getByRole("button", { name: "Refresh" }).click(); // two queries at once, both refused at first
    await page.getByRole("img", { name: /DAY: spent 40\.00 of 100\.00 cap/ }).waitFor();
    await page.getByRole("row", { name: "llm.chat settled" }).waitFor();
    const count = (operation: string) => sent.filter((name) => name === operation).length;
    expect(count("RefreshSession")).toBe(1);
    expect([count("AgentDetail"), count("AgentActions")]).toEqual([2, 2]);
    await expect(page.getByRole("alert").count()).resolves.toBe(0);

    await page.reload();
    await page.getByRole("heading", { name: agent.name }).waitFor();
    await page.getByRole("row", { name: "llm.chat settled" }).waitFor();
    expect(count("RefreshSession")).toBe(2);
  });

  step("resets a forgotten password through the emailed link's landing page", async () => {
    const page = people.approver!.page;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Email").fill(approverEmail);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await status(page, "a reset link is on its way").waitFor();
    const [mail] = await mailTo(server, approverEmail, "password-reset");
    const link = new URL(/http\S+reset-password\?token=\S+/.exec(mail!.TextBody)![0]);
    expect(link.pathname).toBe("/app/reset-password");
    await page.goto(link.pathname + link.search);
    await page.getByLabel("New password").fill("quiet harbour at first light");
    await page.getByRole("button", { name: "Set password" }).click();
    await status(page, "Your password is changed").waitFor();
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.getByLabel("Email or username").fill(approverEmail);
    await page.getByLabel("Password").fill("quiet harbour at first light");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Approvals" }).waitFor();
  });
});
