/**
 * The web console (/console/ on the admin listener) as the browser tests use it: its admin user, the sign-in
 * through oauthd's own authorization code flow, and axe-core run on a page despite its strict CSP. They rely only
 * on the console's markup contract: an <h1> per page, a nav with its links and a "Sign out" button, labelled fields.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { signIn } from './browser-flow.js';
import type { TestServer } from './server.js';

export const CONSOLE_ADMIN = { username: 'root-admin', password: 'an admin pass phrase, long enough' };

/** An admin user (User.isAdmin): the only kind of user whose console sign-in gets the admin scopes. */
export async function createAdminUser(server: TestServer, username: string, password: string): Promise<void> {
  const user = await server.services.admin.createUser(username, password, { isAdmin: true });
  expect(user.isAdmin).toBe(true);
}

export const consoleUrl = (server: TestServer, path = ''): string => `${server.adminUrl}/console/${path}`;

/** The page's one <h1>, as text. */
export const heading = async (page: Page): Promise<string> => ((await page.locator('h1').textContent()) ?? '').trim();

/** A button of the page by its text (every change the console makes is a form's button). */
export const button = (page: Page | Locator, name: string): Locator => page.getByRole('button', { name, exact: true });

/** Clicks what starts a navigation (a link, a form's button) and waits for the new document to load. */
export async function navigate(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

/** True when the page is the console's dashboard (the path is /console or /console/, with any query). */
const onDashboard = (url: URL): boolean => /^\/console\/?$/.test(url.pathname);

/**
 * The sign-in as an operator makes it: /console/ → the public authorize endpoint → the login page → the console's
 * callback ("Signed in", which refreshes to /console/) → the dashboard. Leaves the page on the dashboard.
 */
export async function signInToConsole(
  page: Page,
  server: TestServer,
  who: { username: string; password: string } = CONSOLE_ADMIN,
  /** Called on the login page, before the form is filled (the screenshots photograph it). */
  onLoginPage: () => Promise<void> = async () => {},
): Promise<void> {
  await page.goto(consoleUrl(server));
  expect(page.url().startsWith(`${server.oauthUrl}/authorize/`), `not sent to sign in: ${page.url()}`).toBe(true);
  await onLoginPage();
  await signIn(page, who.username, who.password);
  await page.waitForURL(onDashboard);
  expect(await heading(page)).toBe('Dashboard');
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core on the page as it is now. The page's CSP (`script-src 'self'`) refuses an injected <script>
 * (page.addScriptTag fails on it, test/browser/console-pages.test.ts shows it); page.evaluate goes through the
 * DevTools protocol, which CSP does not govern, so axe runs in the page's own world without loosening anything.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return (await page.evaluate(
    `axe.run(document).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
}

/** axe on the page: a serious or critical violation fails the test; the rest is printed for the console's authors. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const violations = await axeViolations(page);
  const line = (v: AxeViolation) =>
    `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`;
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const rest = violations.filter((v) => !blocking.includes(v));
  if (rest.length > 0) console.log(`axe on ${name}, not blocking:\n  ${rest.map(line).join('\n  ')}`);
  expect(blocking.map(line), `axe on ${name}`).toEqual([]);
}
