import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../../src/paths";

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH names another build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots and console logs of failed browser steps, kept for CI's artifacts (gitignored). */
export const FAILURE_DIR = path.join(PROJECT_ROOT, "test-results", "browser");

/**
 * Headless Chromium with nothing that reaches the network by itself (no component updates,
 * sync, QUIC or first-run work). Playwright starts it on a fresh temporary profile
 * (--user-data-dir) and deletes that profile when the browser closes.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Fails early, saying what to do, when the web app has not been built (npm test builds it). */
export function requireBuiltWebApp(): void {
  if (!fs.existsSync(path.join(PROJECT_ROOT, "dist", "web", "index.html"))) {
    throw new Error("dist/web is missing: run `npm run build` (npm test runs it) before the browser tests.");
  }
}

/** One person's browser: their own cookies, a page, and what the page logged. */
export interface Visitor {
  context: BrowserContext;
  page: Page;
  console: string[];
}

export async function openVisitor(browser: Browser, options: { baseURL: string; viewport?: { width: number; height: number } }): Promise<Visitor> {
  const context = await browser.newContext({ baseURL: options.baseURL, viewport: options.viewport ?? { width: 1000, height: 800 } });
  const page = await context.newPage();
  const console: string[] = [];
  page.on("console", (message) => console.push(`[${message.type()}] ${message.text()}`));
  page.on("pageerror", (error) => console.push(`[pageerror] ${error.message}`));
  page.on("requestfailed", (request) => console.push(`[requestfailed] ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ""}`));
  return { context, page, console };
}

/**
 * Runs a step that drives the browser; when it fails, keeps a screenshot and the console
 * log of every visitor's page under test-results/browser/ and prints where.
 */
export async function keepFailures<T>(name: string, visitors: Record<string, Visitor | undefined>, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    fs.mkdirSync(FAILURE_DIR, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase().slice(0, 60);
    for (const [who, visitor] of Object.entries(visitors)) {
      if (!visitor || visitor.page.isClosed()) continue;
      const base = path.join(FAILURE_DIR, `${slug}.${who}`);
      await visitor.page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => undefined);
      fs.writeFileSync(`${base}.log`, `${visitor.page.url()}\n${visitor.console.join("\n")}\n`);
      process.stderr.write(`browser step "${name}" failed: screenshot ${base}.png, console log ${base}.log\n`);
    }
    throw error;
  }
}
