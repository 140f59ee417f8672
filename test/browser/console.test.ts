/**
 * The web console (/console/ on the admin listener) in a real browser (Debian's Chromium), as an operator uses
 * it, in one walk: sign in through oauthd's own authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636; the
 * callback checks `iss`, RFC 9207), create a client and read its secret once, edit its policy, disable a user
 * (their token is then refused at /o/userinfo/, RFC 6750 §3.1), revoke a grant, filter the audit log, sign out
 * (the old session cookie no longer works). The browser enforces the console's strict CSP throughout and reports
 * no violation. Then the headers and assets of its pages, the cold load of the dashboard, the console without its
 * script (the copy button hidden, everything else working), a read-only session (oauthd:admin:read: no change
 * offered, a change posted anyway refused), and a non-admin refused at the callback.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type PageWatch, type TestBrowser, watchPage } from '../helpers/chromium.js';
import {
  button,
  CONSOLE_ADMIN,
  consoleUrl,
  createAdminUser,
  heading,
  navigate,
  signInToConsole,
} from '../helpers/console-browser.js';
import { signIn } from '../helpers/browser-flow.js';
import {
  basic,
  passwordGrant,
  postToken,
  SEED,
  seedSpecSample,
  startTestServer,
  type TestServer,
  userinfo,
} from '../helpers/server.js';

/** A second non-admin user of the spec's client: its grant is the one revoked from the console. */
const BOB = { username: 'bob', password: 'another long pass phrase' };
/** The client the walk creates (confidential, client_credentials): its secret is read off the page once. */
const REPORTS = { clientId: 'nightly-reports', name: 'Nightly reports' };

let server: TestServer | undefined;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  await Promise.all([
    startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' }).then((s) => {
      server = s;
    }),
    launchBrowser().then((b) => {
      browser = b;
    }),
  ]);
  await seedSpecSample(oauthd());
  await createAdminUser(oauthd(), CONSOLE_ADMIN.username, CONSOLE_ADMIN.password);
  await oauthd().services.admin.createUser(BOB.username, BOB.password);
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

const oauthd = (): TestServer => server!;

/** A fresh context (no cookie, empty cache) with a short timeout: a step that does not happen fails in seconds. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  return { context, page, watch: await watchPage(page) };
}

/** A user's access token from the password grant of the spec's client (the legacy integrators' way). */
async function passwordToken(who: { username: string; password: string }): Promise<string> {
  const response = await passwordGrant(oauthd(), { username: who.username, password: who.password });
  expect(response.status).toBe(200);
  return String(response.json.access_token);
}

function clientCredentials(clientId: string, secret: string) {
  return postToken(oauthd(), { grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) });
}

const nav = (page: Page) => page.getByRole('navigation');

/** Creates the REPORTS client on the "New client" page; returns the secret the "Client created" page shows once. */
async function createClient(page: Page): Promise<string> {
  await navigate(page, nav(page).getByRole('link', { name: 'Clients', exact: true }));
  expect(await heading(page)).toBe('Clients');
  await navigate(page, page.getByRole('link', { name: 'New client', exact: true }));
  expect(await heading(page)).toBe('New client');
  await page.getByLabel('Name', { exact: true }).fill(REPORTS.name);
  await page.getByLabel('Client ID (optional)').fill(REPORTS.clientId);
  await page.getByRole('radio', { name: 'Confidential', exact: true }).check();
  await page.getByRole('checkbox', { name: 'client_credentials', exact: true }).check();
  await page.getByLabel('Scopes', { exact: true }).fill('read');
  await navigate(page, button(page, 'Create client'));

  expect(await heading(page)).toBe('Client created');
  await expect.poll(() => page.getByText('This secret is shown once').count()).toBeGreaterThan(0);
  const secret = ((await page.locator('output#client-secret').textContent()) ?? '').trim();
  expect(secret).toMatch(/^[\w~.-]{32,}$/);
  // console.js shows the "Copy" button (it is hidden without script, where it could not work), and it copies.
  await button(page, 'Copy').click();
  await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(secret);
  expect(await button(page, 'Copied').count()).toBe(1);
  return secret;
}

describe('the console in Chromium, in one walk', () => {
  it('signs in, creates a client, edits it, disables a user, revokes a grant, reads the audit, signs out', async () => {
    const { context, page, watch } = await freshPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: oauthd().adminUrl });
    const seedToken = await passwordToken(SEED);
    const bobToken = await passwordToken(BOB);

    // Sign-in: /console/ → the public authorize endpoint → the login page → the callback → the dashboard.
    await signInToConsole(page, oauthd());
    expect(await page.getByRole('banner').getByText(CONSOLE_ADMIN.username).count()).toBeGreaterThan(0);
    const statuses = watch.documents.map((r) => `${r.status()} ${new URL(r.url()).pathname}`);
    expect(statuses[0]).toMatch(/^303 \/console\/?$/);
    expect(statuses).toContain('200 /o/authorize/'); // the login page
    expect(statuses).toContainEqual(expect.stringMatching(/^200 \/console\/callback$/)); // "Signed in"
    const session = (await context.cookies(consoleUrl(oauthd()))).find((c) => c.name === 'oauthd_console');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });

    // A client, its secret read once: it works at the token endpoint, and a reload does not show it again.
    const secret = await createClient(page);
    expect((await clientCredentials(REPORTS.clientId, secret)).status).toBe(200);
    // A reload sends the form again (the page answered a POST): it must not show the secret, nor create a client.
    await page.reload();
    expect(await heading(page)).not.toBe('Client created');
    expect(await page.content()).not.toContain(secret);
    await navigate(page, nav(page).getByRole('link', { name: 'Clients', exact: true }));
    await navigate(page, page.getByRole('link', { name: REPORTS.clientId }).first());
    expect(await heading(page)).toBe(REPORTS.name);
    expect(await page.content()).not.toContain(secret);
    expect((await clientCredentials(REPORTS.clientId, secret)).status).toBe(200); // the reload rotated nothing

    // Its policy: a shorter access token lifetime, saved, shown, and applied by the token endpoint.
    const stale = await context.newPage(); // the same form, opened before the save: it must not win
    await stale.goto(page.url());
    await page.getByLabel('Access token lifetime (seconds)').fill('600');
    await navigate(page, button(page, 'Save'));
    expect(await heading(page)).toBe(REPORTS.name);
    expect(await page.getByLabel('Access token lifetime (seconds)').inputValue()).toBe('600');
    expect((await clientCredentials(REPORTS.clientId, secret)).json.expires_in).toBe(600);
    await stale.getByLabel('Rate limit per minute').fill('5');
    await navigate(stale, button(stale, 'Save'));
    expect(await heading(stale)).toBe('Changed by someone else');
    expect((await clientCredentials(REPORTS.clientId, secret)).json.expires_in).toBe(600);
    await stale.close();

    // A user disabled: their token is refused at once (RFC 6750 §3.1: invalid_token).
    expect((await userinfo(oauthd(), seedToken)).status).toBe(200);
    await navigate(page, nav(page).getByRole('link', { name: 'Users', exact: true }));
    expect(await heading(page)).toBe('Users');
    await page.getByLabel('Search', { exact: true }).fill(SEED.username);
    await navigate(page, button(page, 'Search'));
    await navigate(page, page.getByRole('link', { name: SEED.username, exact: true }));
    expect(await heading(page)).toBe(SEED.username);
    await navigate(page, button(page, 'Disable user'));
    expect(await button(page, 'Enable user').count()).toBe(1);
    expect((await userinfo(oauthd(), seedToken)).status).toBe(401);

    // A grant revoked from the user's sessions: that token is refused, the user stays enabled.
    expect((await userinfo(oauthd(), bobToken)).status).toBe(200);
    await page.goto(consoleUrl(oauthd(), `users/${BOB.username}`));
    const sessions = page.locator('table').filter({ has: page.getByRole('columnheader', { name: 'Client' }) });
    const row = sessions.getByRole('row').filter({ hasText: SEED.clientId });
    expect(await row.count()).toBe(1);
    await navigate(page, row.getByRole('button', { name: /^Revoke\b/ }));
    expect(await sessions.getByRole('row').filter({ hasText: SEED.clientId }).count()).toBe(0);
    expect((await userinfo(oauthd(), bobToken)).status).toBe(401);
    expect(await passwordToken(BOB)).toBeTruthy();

    // The audit log filtered to the disabling, and that event opened.
    await navigate(page, nav(page).getByRole('link', { name: 'Audit log', exact: true }));
    expect(await heading(page)).toBe('Audit log');
    await page.getByLabel('Event', { exact: true }).selectOption('user.disabled');
    await page.getByLabel('Username', { exact: true }).fill(SEED.username);
    await navigate(page, button(page, 'Filter'));
    const events = page.locator('table tbody tr');
    expect(await events.count()).toBe(1);
    expect(await events.first().textContent()).toContain(CONSOLE_ADMIN.username); // the actor
    await navigate(page, events.first().getByRole('link').first());
    expect(await heading(page)).toBe('Audit event');
    const detail = await page.locator('dl').textContent();
    expect(detail).toContain('user.disabled');
    expect(detail).toContain(SEED.username);

    // Sign out: the token behind the session cookie is revoked, so the old cookie signs no one in any more.
    await navigate(page, button(page, 'Sign out'));
    expect(await heading(page)).toBe('Signed out');
    expect(await page.getByRole('link', { name: 'Sign in again' }).count()).toBe(1);
    const replayed = await fetch(consoleUrl(oauthd()), {
      redirect: 'manual',
      headers: { cookie: `oauthd_console=${session!.value}` },
    });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toMatch(new RegExp(`^${oauthd().oauthUrl}/authorize/\\?`));

    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });
});

describe('the console answers what it promises', () => {
  it('sends the strict CSP and no-store on its pages, and loads only its own assets', async () => {
    const { context, page, watch } = await freshPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await signInToConsole(page, oauthd());
    const response = await page.goto(consoleUrl(oauthd(), 'clients'));
    const headers = (await response?.allHeaders()) ?? {};
    const csp = headers['content-security-policy'] ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).toContain(`form-action 'self' ${new URL(oauthd().url).origin}`);
    expect(headers['cache-control']).toContain('no-store');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    // No CDN: every request the pages made went to oauthd's own two listeners.
    const origins = new Set(requested.map((url) => new URL(url).origin));
    expect([...origins].sort()).toEqual([new URL(oauthd().adminUrl).origin, new URL(oauthd().url).origin].sort());
    expect(requested).toContainEqual(expect.stringMatching(/\/console\/assets\/console\.js(\?|$)/));
    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });

  it('loads the dashboard cold (fresh context, empty cache) in well under the 3 s bound', async () => {
    const { context: signedIn, page } = await freshPage();
    await signInToConsole(page, oauthd());
    const cookies = await signedIn.cookies();
    await signedIn.close();

    // A new context has an empty HTTP cache: the stylesheet and script come from the server, as on a first visit.
    const { context, page: cold } = await freshPage();
    await context.addCookies(cookies);
    const response = await cold.goto(consoleUrl(oauthd()));
    expect(response?.status()).toBe(200);
    expect(await heading(cold)).toBe('Dashboard');
    const timing = (await cold.evaluate(
      '(() => { const [n] = performance.getEntriesByType("navigation"); return { load: n.loadEventEnd, ' +
        'resources: performance.getEntriesByType("resource").map((r) => r.transferSize) }; })()',
    )) as { load: number; resources: number[] };
    console.log(`console dashboard cold load: ${Math.round(timing.load)} ms`);
    // Every asset came over the network (transferSize 0 would mean a cache hit).
    expect(timing.resources.every((size) => size > 0)).toBe(true);
    expect(timing.load).toBeGreaterThan(0);
    expect(timing.load).toBeLessThan(3_000);
    await context.close();
  });

  it('works without its script, and comes back after the sign-in to the page that was asked for', async () => {
    const context = await browser!.newContext({ javaScriptEnabled: false });
    context.setDefaultTimeout(5_000);
    const page = await context.newPage();
    await page.goto(consoleUrl(oauthd(), 'clients/new'));
    await signIn(page, CONSOLE_ADMIN.username, CONSOLE_ADMIN.password);
    // "Signed in" refreshes with a <meta> (no script) to the page asked for, not to the dashboard.
    await page.waitForURL((url) => url.pathname === '/console/clients/new');
    expect(await heading(page)).toBe('New client');
    await page.getByLabel('Name', { exact: true }).fill('Scriptless');
    await page.getByRole('checkbox', { name: 'client_credentials', exact: true }).check();
    await navigate(page, button(page, 'Create client'));
    expect(await heading(page)).toBe('Client created');
    const secret = ((await page.locator('output#client-secret').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    // The copy button could not work without script: it stays hidden, and the secret can be selected instead.
    const copy = page.locator('button[data-copy]');
    expect(await copy.count()).toBe(1);
    expect(await copy.isVisible()).toBe(false);
    // No client ID was given: a reload, which posts the form again, must not create a second client.
    await page.reload();
    expect(await heading(page)).not.toBe('Client created');
    await page.goto(consoleUrl(oauthd(), 'clients?search=Scriptless'));
    expect(await page.locator('table tbody tr').filter({ hasText: 'Scriptless' }).count()).toBe(1);
    await context.close();
  });

  it('shows a read-only session every page but no change, and refuses a change posted anyway', async () => {
    // The console asks for both admin scopes; this sign-in is started by hand to ask for the read-only one: the
    // login cookie (state, PKCE verifier) comes from the console, the authorization request is narrowed.
    const start = await fetch(consoleUrl(oauthd()), { redirect: 'manual' });
    const authorize = new URL(start.headers.get('location')!);
    authorize.searchParams.set('scope', 'oauthd:admin:read');
    const { context, page, watch } = await freshPage();
    const login = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const [name, value] = [login.slice(0, login.indexOf('=')), login.slice(login.indexOf('=') + 1)];
    await context.addCookies([{ name, value, url: consoleUrl(oauthd()) }]);
    await page.goto(authorize.toString());
    await signIn(page, CONSOLE_ADMIN.username, CONSOLE_ADMIN.password);
    await page.waitForURL((url) => /^\/console\/?$/.test(url.pathname));
    expect(await page.getByRole('banner').getByText('(read only)').count()).toBe(1);

    await page.goto(consoleUrl(oauthd(), 'clients'));
    expect(await page.getByRole('link', { name: 'New client' }).count()).toBe(0);
    await page.goto(consoleUrl(oauthd(), `users/${BOB.username}`));
    expect(await heading(page)).toBe(BOB.username);
    // Sign out is the one form left: it ends the session, it changes nothing.
    const changes = page.getByRole('main').getByRole('button');
    expect(await changes.count()).toBe(0);

    // A change posted anyway, with a valid CSRF token (the sign-out form's), is refused and changes nothing.
    const csrf = await page.locator('form[action="/console/sign-out"] input[name="csrf"]').getAttribute('value');
    const session = (await context.cookies(consoleUrl(oauthd()))).find((c) => c.name === 'oauthd_console')!;
    const refused = await fetch(consoleUrl(oauthd(), `users/${BOB.username}/active`), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `oauthd_console=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf!, active: 'false' }).toString(),
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('read-only');
    expect((await oauthd().services.store.findUserByUsername(BOB.username))?.isActive).toBe(true);
    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });

  it('refuses a user who is not an administrator at the callback, with a page that says so', async () => {
    const { context, page, watch } = await freshPage();
    await page.goto(consoleUrl(oauthd()));
    await signIn(page, BOB.username, BOB.password);
    await page.waitForURL((url) => url.pathname.startsWith('/console/callback'));
    expect(watch.documents.at(-1)?.status()).toBe(403);
    expect(await page.getByText('This account is not an administrator.').count()).toBeGreaterThan(0);
    expect((await context.cookies(consoleUrl(oauthd()))).map((c) => c.name)).not.toContain('oauthd_console');
    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });
});
