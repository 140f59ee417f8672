/**
 * Debian's Chromium driven by playwright-core for the tests in test/browser/. playwright-core downloads no
 * browser: it drives the system's /usr/bin/chromium (apt-get install chromium). Where Chromium is missing,
 * vitest.config.ts leaves test/browser/ out with one loud line (tools.ts systemProgram), unless
 * OAUTHD_REQUIRE_CHROMIUM=1 (CI), where the run fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type BrowserContextOptions, chromium, type Page, type Response } from 'playwright-core';
import { CHROMIUM, locateProgram } from './tools.js';

export interface TestBrowser {
  /** A fresh context: its own cookies and storage, like a private window. Close it, or let close() do it. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Closes the browser and deletes its profile directory. */
  close(): Promise<void>;
}

/**
 * Switches that keep Chromium from reaching the network on its own (updates, sync) and from using what a
 * CI machine lacks (a display, a GPU, QUIC through a firewall). Playwright adds --no-sandbox unless
 * `chromiumSandbox`, which is off for root only: Chromium's sandbox refuses to start as root (containers, CI).
 */
const SWITCHES = [
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium with a fresh profile in a temporary directory, deleted on close: nothing of a previous
 * run (cookies, cache, HSTS) and nothing of the machine's own profile. One per test file; each test takes
 * its own context, which costs milliseconds where a launch costs half a second.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = locateProgram(CHROMIUM.command);
  if (executablePath === null) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'oauthd-chromium-'));
  try {
    // launchPersistentContext is how Playwright takes a profile directory of our choosing (it refuses
    // --user-data-dir in args); its browser still opens isolated contexts.
    const persistent = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      chromiumSandbox: process.getuid?.() !== 0,
      args: SWITCHES,
    });
    const browser = persistent.browser();
    if (browser === null) throw new Error('Playwright gave no browser for the persistent context');
    return {
      newContext: (options) => browser.newContext(options),
      async close() {
        try {
          await persistent.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** What a page did that a test looks at: the documents it loaded and what it wrote to the console. */
export interface PageWatch {
  /** Every top-level document the page loaded (the answers to navigations, redirects followed). */
  documents: Response[];
  /** Every console message and uncaught error, as `type: text`. */
  console: string[];
  /** The console lines that report a Content-Security-Policy violation. */
  cspViolations(): string[];
}

/**
 * Chromium reports a CSP violation on the console itself ("Refused to apply inline style because it violates
 * the following Content Security Policy directive"); the page's `securitypolicyviolation` event is logged too,
 * by an init script (Playwright runs it outside the page's CSP), so neither way of reporting is missed.
 */
const REPORT_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
});`;

export async function watchPage(page: Page): Promise<PageWatch> {
  const watch: PageWatch = {
    documents: [],
    console: [],
    cspViolations: () => watch.console.filter((line) => /Content[- ]Security[- ]Policy|CSP violation/i.test(line)),
  };
  await page.addInitScript(REPORT_VIOLATIONS);
  page.on('console', (message) => watch.console.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => watch.console.push(`pageerror: ${error.message}`));
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.request().frame() === page.mainFrame()) {
      watch.documents.push(response);
    }
  });
  return watch;
}

/** RFC 7636 §4.1-4.2: a code_verifier of 43 characters and its S256 code_challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
