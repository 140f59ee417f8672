/**
 * The authorization code flow with PKCE in a real browser (Debian's Chromium): the login and consent pages
 * as a person uses them, the redirects the browser follows (RFC 6749 §4.1.2, RFC 9700 §4.12: 303 after the
 * POST), the CSP the pages send and that the browser enforces (form-action must let the consent POST's
 * redirect reach the client), remembered consent, access_denied (RFC 6749 §4.1.2.1), and the keyboard.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pkcePair, type TestBrowser, watchPage } from '../helpers/chromium.js';
import {
  asksForDecision,
  asksToSignIn,
  authorizeUrl,
  decide,
  issuerOf,
  loginForm,
  signIn,
} from '../helpers/browser-flow.js';
import { type CallbackServer, startCallbackServer } from '../helpers/callback-server.js';
import { postToken, startTestServer, type TestServer, userinfo } from '../helpers/server.js';

const CLIENT = { clientId: 'payouts-dashboard', name: 'Payouts dashboard' };
const ALICE = { username: 'alice', password: 'correct horse battery staple' };
const BOB = { username: 'bob', password: 'another long pass phrase' };
const CAROL = { username: 'carol', password: 'typed with the keyboard only' };

let server: TestServer | undefined;
let browser: TestBrowser | undefined;
let callback: CallbackServer | undefined;

beforeAll(async () => {
  await Promise.all([
    startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' }).then((s) => {
      server = s;
    }),
    launchBrowser().then((b) => {
      browser = b;
    }),
    startCallbackServer().then((c) => {
      callback = c;
    }),
  ]);
  const { admin } = oauthd().services;
  await admin.createUser(ALICE.username, ALICE.password);
  await admin.createUser(BOB.username, BOB.password);
  await admin.createUser(CAROL.username, CAROL.password);
  await admin.createClient({
    ...CLIENT,
    isPublic: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: 'read write',
    policy: { redirectUris: [client().redirectUri] },
  });
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop(), callback?.close()]);
});

const oauthd = (): TestServer => server!;
const client = (): CallbackServer => callback!;

/** A fresh context (no cookie) with a short timeout: a step that does not happen fails in seconds. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext();
  context.setDefaultTimeout(5_000);
  return { context, page: await context.newPage() };
}

/** A new authorization request of the dashboard: its own state and PKCE pair. */
function newRequest(scope = 'read') {
  const pkce = pkcePair();
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const url = authorizeUrl(oauthd(), {
    clientId: CLIENT.clientId,
    redirectUri: client().redirectUri,
    scope,
    state,
    codeChallenge: pkce.challenge,
  });
  return { url, state, verifier: pkce.verifier };
}

/** What the client's callback received last, once the browser is there. */
function lastCallback(page: Page): URLSearchParams {
  expect(page.url().startsWith(`${client().redirectUri}?`)).toBe(true);
  const received = client().received.at(-1);
  expect(received).toBeDefined();
  return received!;
}

function exchange(code: string, verifier: string) {
  return postToken(oauthd(), {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client().redirectUri,
    client_id: CLIENT.clientId,
    code_verifier: verifier,
  });
}

describe('the browser sees a CSP violation when there is one', () => {
  it('reports the inline style of a page whose CSP forbids it', async () => {
    const { context, page } = await freshPage();
    const watch = await watchPage(page);
    await page.goto(client().violationProbeUrl);
    await page.waitForLoadState('load');
    // The check below (no violation on oauthd's pages) would be worthless if violations went unseen.
    await expect.poll(() => watch.cspViolations().length).toBeGreaterThan(0);
    await context.close();
  });
});

describe('the authorization code flow with PKCE in Chromium', () => {
  let signedIn: BrowserContext | undefined;
  afterAll(() => signedIn?.close());

  it('signs in, asks for consent, returns a code the token endpoint exchanges for working tokens', async () => {
    const { context, page } = await freshPage();
    signedIn = context;
    const watch = await watchPage(page);
    const request = newRequest();

    const first = await page.goto(request.url);
    expect(first?.status()).toBe(200);
    expect(await asksToSignIn(page)).toBe(true);
    await signIn(page, ALICE.username, ALICE.password);

    expect(await asksForDecision(page)).toBe(true);
    expect(await page.getByText(CLIENT.name).first().isVisible()).toBe(true);
    await decide(page, 'Allow');

    // RFC 6749 §4.1.2 and RFC 9207 §2: the code, the state as sent, and the issuer.
    const query = lastCallback(page);
    expect(query.get('state')).toBe(request.state);
    expect(query.get('iss')).toBe(issuerOf(oauthd()));
    const code = query.get('code');
    expect(code).toMatch(/^[\w-]{22,}$/);

    const tokens = await exchange(code!, request.verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expect(typeof tokens.json.refresh_token).toBe('string');
    const me = await userinfo(oauthd(), String(tokens.json.access_token));
    expect(me.json).toMatchObject({ username: ALICE.username });

    // Every page oauthd sent carried its CSP, and the browser found nothing on them to refuse.
    const pages = watch.documents.filter((r) => r.url().startsWith(oauthd().url) && r.status() === 200);
    expect(pages.length).toBe(2); // the login page, then the consent page
    for (const response of pages) {
      const csp = (await response.allHeaders())['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(new RegExp(`form-action 'self' ${client().origin.replace(/[.]/g, '\\.')}(;|$)`));
    }
    expect(watch.cspViolations()).toEqual([]);
  });

  it('asks a signed-in person again for a public client, which cannot prove who it is (RFC 8252 §8.6)', async () => {
    expect(signedIn).toBeDefined();
    const page = await signedIn!.newPage();
    const watch = await watchPage(page);
    const request = newRequest();

    await page.goto(request.url);
    // Still signed in (no login form), but the consent page again: anyone can send this client_id.
    expect(await page.locator('input[type="password"]').count()).toBe(0);
    expect(await asksForDecision(page)).toBe(true);
    await decide(page, 'Allow');
    const query = lastCallback(page);
    expect(query.get('state')).toBe(request.state);
    expect(watch.documents.filter((r) => r.url().startsWith(oauthd().url)).map((r) => r.status())).toEqual([200, 303]);
    const tokens = await exchange(query.get('code')!, request.verifier);
    expect(tokens.status).toBe(200);
    // The code is bound to this request's challenge (RFC 7636 §4.6): another verifier is refused.
    const again = newRequest();
    await page.goto(again.url);
    await decide(page, 'Allow');
    const refused = await exchange(lastCallback(page).get('code')!, request.verifier);
    expect(refused.json).toMatchObject({ error: 'invalid_grant' });
  });

  it('sends error=access_denied with the state when the person clicks Deny', async () => {
    const { context, page } = await freshPage();
    const watch = await watchPage(page);
    const request = newRequest();
    await page.goto(request.url);
    await signIn(page, BOB.username, BOB.password);
    expect(await asksForDecision(page)).toBe(true);
    await decide(page, 'Deny');

    const query = lastCallback(page);
    expect(query.get('error')).toBe('access_denied');
    expect(query.get('state')).toBe(request.state);
    expect(query.get('code')).toBeNull();
    expect(watch.cspViolations()).toEqual([]);
    await context.close();
  });
});

/** Presses Tab until `focused` holds, at most ten times (a page with more stops before its form is broken). */
async function tabUntil(page: Page, focused: () => Promise<boolean>): Promise<void> {
  for (let presses = 0; presses < 10; presses++) {
    await page.keyboard.press('Tab');
    if ((await page.locator(':focus').count()) === 1 && (await focused())) return;
  }
  throw new Error(`ten presses of Tab did not reach the field (focus on ${await page.locator(':focus').count()})`);
}

describe('the login form with the keyboard only', () => {
  it('is reached with Tab, filled by typing and sent with Enter', async () => {
    const { context, page } = await freshPage();
    await page.goto(newRequest().url);
    const focusedName = () => page.locator(':focus').getAttribute('name');

    // Tab from the top of the page until the username field has the focus: it must be reachable.
    await tabUntil(page, async () => (await focusedName()) === 'username');
    // The focused field is visibly marked (WCAG 2.4.7): an outline or a ring of box-shadow.
    const ring = await page.evaluate(
      '(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.boxShadow]; })()',
    );
    expect(ring).not.toEqual(['none', 'none']);
    await page.keyboard.type(CAROL.username);
    await page.keyboard.press('Tab');
    expect(await focusedName()).toBe('password');
    await page.keyboard.type(CAROL.password);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);

    // Signed in: the consent page, whose Allow is reached and pressed the same way.
    expect(await loginForm(page).count()).toBe(0);
    expect(await asksForDecision(page)).toBe(true);
    await tabUntil(page, async () => (await page.locator(':focus').textContent())?.trim() === 'Allow');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    expect(lastCallback(page).get('code')).toBeTruthy();
    await context.close();
  });
});
