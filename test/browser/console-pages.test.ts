/**
 * Every page of the web console (/console/ on the admin listener), walked as an operator meets them, in three
 * looks (light and dark at 1280 px, a 360 px phone), with axe-core 4.14 run on each: no violation of impact serious
 * or critical (WCAG 2.x A/AA and axe's best practices; the lesser ones are printed). axe is injected through the
 * DevTools protocol, which the pages' strict CSP does not govern, while the CSP stays in force and the browser
 * reports no violation of it. At the phone's width every page must fit (no sideways scrolling). With
 * OAUTHD_SCREENSHOTS=1 (`npm run screenshots`) the walk writes docs/img/console-<page>-light.png for every page and
 * the dashboard in dark and on the phone, shown in docs/console.md. Last, the next sign-in after a minute asks for
 * the password again, though the browser is still signed in on the login page (core/authorize/fresh-sign-in.ts).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESH_SIGN_IN_SECONDS } from '../../src/core/authorize/fresh-sign-in.js';
import { horizontalOverflow, signIn } from '../helpers/browser-flow.js';
import { launchBrowser, type TestBrowser, watchPage } from '../helpers/chromium.js';
import {
  axeViolations,
  button,
  CONSOLE_ADMIN,
  consoleUrl,
  createAdminUser,
  expectAccessible,
  heading,
  navigate,
  signInToConsole,
} from '../helpers/console-browser.js';
import { basic, postToken, startTestServer, type TestServer, testClock } from '../helpers/server.js';

const WRITE = process.env.OAUTHD_SCREENSHOTS === '1';
const IMAGES = fileURLToPath(new URL('../../docs/img/', import.meta.url));

const LOOKS: Record<string, BrowserContextOptions> = {
  light: { viewport: { width: 1280, height: 800 }, colorScheme: 'light' },
  dark: { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' },
  phone: { viewport: { width: 360, height: 740 }, colorScheme: 'light', isMobile: true, hasTouch: true },
};

const PEOPLE = ['alice', 'bob', 'carol', 'dmitri', 'erin'].map((username) => ({
  username,
  password: `${username}'s long pass phrase`,
}));
/** A legacy integration still on the password grant: the dashboard lists it. */
const MOBILE = { clientId: 'payouts-mobile', name: 'Payouts mobile app' };
/** A back-end service: client_credentials, the bulk of the tokens issued. */
const BATCH = { clientId: 'settlement-batch', name: 'Settlement batch' };
/** An old client for the delete confirmation (one per look, each walk deletes its own). */
const KIOSK = { clientId: 'lobby-kiosk', name: 'Lobby kiosk' };
/** A look's own copy of a client id: the first look (light, the one photographed) keeps the plain one. */
const idFor = (clientId: string, lookName: string): string =>
  lookName === 'light' ? clientId : `${clientId}-${lookName}`;

const HOUR = 3600;
/**
 * The server's clock: a day of activity is played on it, ending at a fixed time (2026-03-03 09:30 UTC), so that
 * the images show the same times on every run. The browser never compares it with its own (cookies use Max-Age).
 */
const clock = testClock(Date.UTC(2026, 2, 3, 9, 30) / 1000 - 24 * HOUR);
let server: TestServer | undefined;
let browser: TestBrowser | undefined;
const secrets = new Map<string, string>();

/** Creates a confidential client through the admin service and keeps its generated secret. */
async function createClient(input: { clientId: string; name: string; grantTypes: string[] }): Promise<void> {
  const { clientSecret } = await server!.services.admin.createClient({ ...input, scopes: 'read write' });
  secrets.set(input.clientId, clientSecret!);
}

const token = (clientId: string, body: Record<string, string>) =>
  postToken(server!, body, { authorization: basic(clientId, secrets.get(clientId)!) });

/**
 * One slice of activity at the clock's time: tokens issued to the service and through the password grant,
 * refreshes, failed logins (with `lockout` a guesser locked out), so the dashboard's charts have a shape.
 */
async function activity(step: number, lockout: boolean): Promise<void> {
  for (let i = 0; i < 2 + (step % 5); i++) await token(BATCH.clientId, { grant_type: 'client_credentials' });
  const person = PEOPLE[step % PEOPLE.length]!;
  const issued = await token(MOBILE.clientId, { grant_type: 'password', ...person });
  expect(issued.status).toBe(200);
  let refresh = String(issued.json.refresh_token);
  for (let i = 0; i < step % 4; i++) {
    const refreshed = await token(MOBILE.clientId, { grant_type: 'refresh_token', refresh_token: refresh });
    refresh = String(refreshed.json.refresh_token);
  }
  const guesses = lockout ? 3 : step % 3;
  for (let i = 0; i < guesses; i++) {
    await token(MOBILE.clientId, { grant_type: 'password', username: `guess-${step}`, password: `wrong-${i}` });
  }
}

/** A day of activity: one slice every two hours, then one every five minutes in the last hour. */
async function aDayOfActivity(): Promise<void> {
  for (let step = 0; step < 11; step++) {
    await activity(step, false);
    clock.advance(2 * HOUR);
  }
  clock.advance(HOUR - 60);
  for (let step = 0; step < 12; step++) {
    await activity(step, step === 4 || step === 9);
    clock.advance(5 * 60);
  }
}

/**
 * Waits until the server has written every token request it counted (it writes them every second here): the
 * stored total is above zero and the same over two flushes. 10 s at most.
 */
async function usageWritten(oauthd: TestServer): Promise<void> {
  const total = async () =>
    (await oauthd.services.store.listClientUsage({ sinceDay: 0 })).reduce((sum, row) => sum + row.requests, 0);
  let last = -1;
  for (let tries = 0; tries < 8; tries++) {
    const now = await total();
    if (now > 0 && now === last) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
  }
  throw new Error('the client usage was never all written');
}

beforeAll(async () => {
  const throttle = {
    OAUTHD_MAX_FAILURES_PER_USER_IP: '3',
    OAUTHD_MAX_FAILURES_PER_USER: '1000',
    OAUTHD_BACKOFF_AFTER: '1000',
  };
  // The dashboard's password-grant table reads the per-client usage, which the server writes every few seconds.
  const usage = { OAUTHD_USAGE_FLUSH_SECONDS: '1' };
  await Promise.all([
    startTestServer(
      { OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read', ...throttle, ...usage },
      { clock },
    ).then((s) => {
      server = s;
    }),
    launchBrowser().then((b) => {
      browser = b;
    }),
  ]);
  const { admin } = server!.services;
  for (const person of PEOPLE) await admin.createUser(person.username, person.password);
  await createAdminUser(server!, CONSOLE_ADMIN.username, CONSOLE_ADMIN.password);
  await createClient({ ...MOBILE, grantTypes: ['password', 'refresh_token'] });
  await createClient({ ...BATCH, grantTypes: ['client_credentials'] });
  await aDayOfActivity();
  await usageWritten(server!);
  if (WRITE) mkdirSync(IMAGES, { recursive: true });
}, 120_000);

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** Checks the page as it is now (axe; at phone width, no sideways scrolling), and photographs it when asked to. */
async function look(page: Page, name: string, lookName: string): Promise<void> {
  await page.waitForLoadState('load');
  await expectAccessible(page, `${name} (${lookName})`);
  if (lookName === 'phone') {
    expect(await horizontalOverflow(page), `${name} is wider than the phone`).toBeLessThanOrEqual(0);
  }
  // Every page in light; the dashboard alone in dark and on the phone.
  const photographed = lookName === 'light' || name === 'dashboard';
  if (WRITE && photographed)
    await page.screenshot({ path: `${IMAGES}console-${name}-${lookName}.png`, fullPage: true });
}

const go = async (page: Page, path: string, status = 200): Promise<void> => {
  const response = await page.goto(consoleUrl(server!, path));
  expect(response?.status(), path).toBe(status);
};

/** The clients' pages: list, new, created (the secret once), the client, a new secret, the delete confirmation. */
async function clientPages(page: Page, lookName: string, snap: (name: string) => Promise<void>): Promise<void> {
  await go(page, 'clients');
  await snap('clients');
  await navigate(page, page.getByRole('link', { name: 'New client', exact: true }));
  await snap('client-new');
  await page.getByLabel('Name', { exact: true }).fill('Payouts dashboard');
  await page.getByLabel('Client ID (optional)').fill(idFor('payouts-dashboard', lookName));
  await page.getByRole('radio', { name: 'Confidential', exact: true }).check();
  for (const grant of ['authorization_code', 'refresh_token']) {
    await page.getByRole('checkbox', { name: grant, exact: true }).check();
  }
  await page.getByLabel('Scopes', { exact: true }).fill('read write');
  await page.getByLabel('Redirect URIs').fill('https://dashboard.example.com/oauth/callback');
  await navigate(page, button(page, 'Create client'));
  expect(await heading(page)).toBe('Client created');
  await snap('client-created');

  await go(page, `clients/${MOBILE.clientId}`);
  expect(await heading(page)).toBe(MOBILE.name);
  await snap('client');
  await navigate(page, button(page, 'Rotate secret'));
  expect(await heading(page)).toBe('New secret');
  await snap('client-secret');
  const kiosk = idFor(KIOSK.clientId, lookName);
  await createClient({ ...KIOSK, clientId: kiosk, grantTypes: ['client_credentials'] });
  await go(page, `clients/${kiosk}`);
  await navigate(page, page.getByRole('link', { name: 'Delete client', exact: true }));
  expect(await heading(page)).toBe(`Delete client ${KIOSK.name}?`);
  await snap('client-delete');
  await navigate(page, button(page, 'Delete client'));
  expect(await heading(page)).toBe('Clients');
}

/** The users' pages and the audit log's. */
async function userAndAuditPages(page: Page, snap: (name: string) => Promise<void>): Promise<void> {
  await go(page, 'users');
  await snap('users');
  await navigate(page, page.getByRole('link', { name: 'New user', exact: true }));
  await snap('user-new');
  await go(page, `users/${PEOPLE[0]!.username}`);
  expect(await heading(page)).toBe(PEOPLE[0]!.username);
  await snap('user');

  await go(page, 'audit');
  await snap('audit');
  await navigate(page, page.locator('table tbody tr').first().getByRole('link').first());
  expect(await heading(page)).toBe('Audit event');
  await snap('audit-event');
}

/** Every page, in the order an operator meets them; the sign-out last. */
async function walk(page: Page, lookName: string): Promise<void> {
  const snap = (name: string) => look(page, name, lookName);
  await signInToConsole(page, server!, CONSOLE_ADMIN, () => snap('sign-in'));
  const stillOnPasswords = page.locator('table').filter({ has: page.getByRole('columnheader', { name: 'Client' }) });
  expect(await stillOnPasswords.getByRole('row').filter({ hasText: MOBILE.clientId }).count()).toBe(1);
  await snap('dashboard');
  await navigate(page, page.getByRole('link', { name: 'Last day', exact: true }));
  expect(new URL(page.url()).searchParams.get('range')).toBe('day');
  await snap('dashboard-day');
  await clientPages(page, lookName, snap);
  await userAndAuditPages(page, snap);
  await go(page, 'no-such-page', 404);
  expect(await heading(page)).toBe('Not found');
  await snap('not-found');
  await navigate(page, button(page, 'Sign out'));
  expect(await heading(page)).toBe('Signed out');
  await snap('signed-out');
}

describe('every console page: accessible, strict CSP kept', () => {
  for (const [lookName, options] of Object.entries(LOOKS)) {
    const title = `every page, ${lookName}: no serious axe violation, no CSP violation${WRITE ? ' (docs/img/)' : ''}`;
    it(title, async () => {
      const context = await browser!.newContext(options);
      context.setDefaultTimeout(5_000);
      const page = await context.newPage();
      const watch = await watchPage(page);
      await walk(page, lookName);
      expect(watch.cspViolations()).toEqual([]);
      await context.close();
    });
  }

  it('refuses a script added to a page, while axe, injected by the DevTools protocol, runs', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const watch = await watchPage(page);
    await signInToConsole(page, server!);
    // The CSP is in force: an inline <script> (how page.addScriptTag injects) is refused and reported...
    await expect(page.addScriptTag({ content: 'window.injected = true' })).rejects.toThrow(/Content Security Policy/);
    expect(await page.evaluate('window.injected')).toBeUndefined();
    expect(watch.cspViolations().length).toBeGreaterThan(0);
    // ...and axe, evaluated through the protocol, runs all the same, and sees a fault when there is one.
    await expectAccessible(page, 'dashboard (CSP check)');
    await page.evaluate(`document.querySelector('main').append(document.createElement('input'))`);
    const faults = await axeViolations(page);
    expect(faults.map((v) => `${v.id} ${v.impact}`)).toContain('label critical');
    await context.close();
  });
});

describe('the next console sign-in', () => {
  it('asks for the password again, though the browser is still signed in on the login page', async () => {
    const context = await browser!.newContext();
    context.setDefaultTimeout(5_000);
    const page = await context.newPage();
    const watch = await watchPage(page);
    await signInToConsole(page, server!);
    await navigate(page, button(page, 'Sign out'));
    expect(await heading(page)).toBe('Signed out');
    // The login page's session lives on (8 h), but the console wants a password typed within the last minute.
    clock.advance(FRESH_SIGN_IN_SECONDS + 1);
    expect((await context.cookies(server!.url)).map((c) => c.name)).toContain('oauthd_session');
    await navigate(page, page.getByRole('link', { name: 'Sign in again', exact: true }));
    expect(page.url().startsWith(`${server!.oauthUrl}/authorize/`), page.url()).toBe(true);
    expect(await heading(page)).toBe('Sign in');
    expect(await page.getByText('It asks for your password at each sign-in').count()).toBe(1);
    await expectAccessible(page, 'sign-in, asked again');
    await signIn(page, CONSOLE_ADMIN.username, CONSOLE_ADMIN.password);
    await page.waitForURL((url) => /^\/console\/?$/.test(url.pathname));
    expect(await heading(page)).toBe('Dashboard');
    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });
});
