// Real headless Chromium (the system's package, never a downloaded browser) driven by
// playwright-core, for the console suite. Every page's console errors and uncaught exceptions are
// collected so a suite can assert there were none.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where the suite writes its screenshots (git-ignored). */
export const SCREENSHOT_DIR = "test-results/console";

export type BrowserProblem = { page: string; kind: "console" | "pageerror"; text: string };

export type TestBrowser = {
  /** A page in a fresh context: its own sessionStorage, so nobody is signed in. */
  newPage(): Promise<Page>;
  /** Console errors and page errors seen so far (and forgets them). */
  takeProblems(): BrowserProblem[];
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
};

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `the console tests need Chromium at ${CHROMIUM_PATH}: run \`make test\` (it installs Debian's chromium) or set CHROMIUM_PATH`,
    );
  }
  // launch() gives the browser a fresh temporary profile of its own, deleted when it closes.
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const contexts: BrowserContext[] = [];
  let problems: BrowserProblem[] = [];
  return {
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error")
          problems.push({ page: page.url(), kind: "console", text: message.text() });
      });
      page.on("pageerror", (error) =>
        problems.push({ page: page.url(), kind: "pageerror", text: error.message }),
      );
      return page;
    },
    takeProblems() {
      const taken = problems;
      problems = [];
      return taken;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close();
    },
  };
}
