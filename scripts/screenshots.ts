import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { createAgentClient, PolicyDeniedError } from "../clients/agent/src";
import { PROJECT_ROOT } from "../src/paths";
import { launchChromium, openVisitor, requireBuiltWebApp } from "../tests/browser/support/chromium";
import { createAgentWithKey, createPolicy, units } from "../tests/support/agent-fixtures";
import { loginUser, PASSWORD, registerUser } from "../tests/support/fixtures";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer } from "../tests/support/test-server";
import { GrantRoleDocument } from "../tests/generated/graphql";

/**
 * `npm run screenshots`: the README's pictures of the web app. Starts a throwaway embedded
 * server (temporary directory, in-memory database), fills it through the API and the agent
 * SDK, and has headless Chromium photograph the main screens into docs/screenshots/.
 */
const OUT = path.join(PROJECT_ROOT, "docs", "screenshots");
const VIEWPORT = { width: 1000, height: 720 };
const SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

async function main(): Promise<void> {
  requireBuiltWebApp();
  fs.mkdirSync(OUT, { recursive: true });
  const server = await startTestServer();
  const browser = await launchChromium();
  try {
    const { client } = server;
    const admin = await loginUser(client, ADMIN_EMAIL, ADMIN_PASSWORD);
    const owner = await registerUser(client, { email: "ada@example.com", password: PASSWORD }, { headers: { "user-agent": "curl/8.5.0" } });
    const agent = await createAgentWithKey(client, owner, "research bot");
    await createPolicy(client, admin, {
      name: "research bot budget",
      scope: "AGENT",
      scopeId: agent.id,
      rules: [
        { pattern: "llm.*", effect: "ALLOW" },
        { pattern: "payments.*", effect: "REQUIRE_APPROVAL" },
      ],
      caps: [
        { per: "AGENT", window: "HOUR", limit: units(80) },
        { per: "AGENT", window: "DAY", limit: units(100) },
        { per: "AGENT", window: "MONTH", limit: units(1000) },
      ],
    });
    const sdk = createAgentClient({ url: server.url, apiKey: agent.key });
    for (const cost of [12, 7, 9]) {
      await sdk.governed({ action: "llm.completion", estimatedCost: units(cost + 2), resource: "model:large" }, async () => ({ actualCost: units(cost), result: null }));
    }
    await sdk.submit({ action: "llm.chat", estimatedCost: units(4) });
    await sdk.governed({ action: "payments.transfer", estimatedCost: units(25), resource: "invoice:7", waitForApproval: false }, async () => ({ actualCost: 0, result: null }));
    await sdk.governed({ action: "llm.completion", estimatedCost: units(60) }, async () => ({ actualCost: 0, result: null })).catch((error: unknown) => {
      if (!(error instanceof PolicyDeniedError)) throw error;
    });
    for (const userAgent of [SAFARI, FIREFOX]) await loginUser(client, owner.user.email, PASSWORD, { headers: { "user-agent": userAgent } });
    const manager = await registerUser(client, { email: "grace@example.com", password: PASSWORD });
    await client.ok(GrantRoleDocument, { userId: manager.user.id, role: "MANAGER" }, { token: admin.accessToken });

    const { page } = await openVisitor(browser, { baseURL: server.url, viewport: VIEWPORT });
    const shot = async (name: string, height = VIEWPORT.height) => {
      await page.evaluate("document.fonts.ready");
      await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: VIEWPORT.width, height } });
      process.stdout.write(`docs/screenshots/${name}.png\n`);
    };

    await page.goto("/app/sign-in");
    await page.getByLabel("Email or username").fill(owner.user.email);
    await shot("sign-in");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();

    await page.getByRole("link", { name: "research bot" }).click();
    await page.getByLabel("Key name").fill("prod");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("region", { name: "New API key" }).waitFor();
    await page.getByRole("row", { name: "payments.transfer pending approval" }).waitFor();
    await shot("agent", 1450);

    await page.getByRole("link", { name: "Sessions" }).click();
    await page.getByRole("row", { name: /Session from Safari/ }).waitFor();
    await shot("sessions");

    await page.getByRole("link", { name: "Security" }).click();
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    await page.getByRole("img", { name: "QR code to scan with your authenticator app" }).waitFor();
    await shot("mfa-enrolment");

    const approver = await openVisitor(browser, { baseURL: server.url, viewport: VIEWPORT });
    await approver.page.goto("/app/sign-in");
    await approver.page.getByLabel("Email or username").fill(manager.user.email);
    await approver.page.getByLabel("Password").fill(PASSWORD);
    await approver.page.getByRole("button", { name: "Sign in" }).click();
    await approver.page.getByRole("link", { name: "Approvals" }).click();
    await approver.page.getByRole("row", { name: "payments.transfer pending approval" }).waitFor();
    await approver.page.evaluate("document.fonts.ready");
    await approver.page.screenshot({ path: path.join(OUT, "approvals.png") });
    process.stdout.write("docs/screenshots/approvals.png\n");
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
