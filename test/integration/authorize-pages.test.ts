/**
 * The authorization code flow through its pages over real HTTP against a real store (SQLite, or PostgreSQL
 * with OAUTHD_TEST_STORE=postgres): RFC 6749 §4.1 (request, consent, code, exchange), RFC 7636 (PKCE), RFC 9207
 * (`iss`), RFC 9700 §4.12 (303 after a POST), remembered consent, first-party clients, sign-out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionUrl,
  authorizeUrl,
  createCodeClient,
  decide,
  exchangeCode,
  redirectParams,
  signInThrough,
  WEB,
  webRequest,
} from '../helpers/authorize.js';
import { Browser, formsOf } from '../helpers/browser.js';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const FIRST_PARTY = {
  clientId: 'first-party',
  clientSecret: 'first-party-secret',
  redirectUri: 'https://fp.example/cb',
};

beforeAll(async () => {
  server = await startTestServer({
    OAUTHD_SCOPES: 'read write',
    OAUTHD_DEFAULT_SCOPES: 'read',
    OAUTHD_PRODUCT_NAME: 'Payouts',
    OAUTHD_SCOPE_DESCRIPTIONS: JSON.stringify({ read: 'See your payouts' }),
  });
  await seedSpecSample(server);
  await createCodeClient(server, { ...WEB, name: 'Web <App>' }, { redirectUris: [WEB.redirectUri] });
  await createCodeClient(server, FIRST_PARTY, { redirectUris: [FIRST_PARTY.redirectUri], skipConsent: true });
  // Consent is remembered per user: the tests that need the consent page each sign in as a user of their own.
  for (const name of ['carol', 'dave', 'erin']) await server.services.admin.createUser(name, `${name}-password-1`);
});

afterAll(async () => {
  await server.stop();
});

describe('the authorization code flow through the pages', () => {
  it('signs in, asks consent, redirects with code, state and iss, and the code buys tokens', async () => {
    const browser = new Browser();
    const { url, state, pkce } = webRequest(server, { scope: 'read write' });

    const login = await browser.get(url);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(login.body).toContain('Sign in to continue to <strong>Web &lt;App&gt;</strong>');
    expect(login.body).toContain('<span class="product">Payouts</span>');

    const signedIn = await signInThrough(server, browser, url);
    // Post/Redirect/Get to the same authorization URL.
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe(url);

    const consent = await browser.get(url);
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('<li>See your payouts</li><li>write</li>');
    expect(consent.body).toContain(`Signed in as <strong>${SEED.username}</strong>`);
    const [decision, signOut] = formsOf(consent.body);
    expect(decision?.hidden.step).toBe('consent');
    expect(signOut?.action).toBe('/o/logout/');

    const allowed = await decide(server, browser, consent, 'allow');
    // RFC 9700 §4.12: 303, never 307, after the form's POST.
    expect(allowed.status).toBe(303);
    expect(allowed.location!.startsWith(`${WEB.redirectUri}?`)).toBe(true);
    const params = redirectParams(allowed.location);
    expect(params).toEqual({ code: expect.any(String), state, iss: server.url });

    const tokens = await exchangeCode(server, params.code!, pkce.verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(tokens.json.access_token).toEqual(expect.any(String));
    // RFC 6749 §4.1.2: a code is single use.
    expect((await exchangeCode(server, params.code!, pkce.verifier)).status).toBe(400);
  });

  it('remembers the consent: a second request for the same scope goes straight back with a code', async () => {
    const browser = new Browser();
    const first = webRequest(server);
    await signInThrough(server, browser, first.url, { username: 'carol', password: 'carol-password-1' });
    const allowed = await decide(server, browser, await browser.get(first.url), 'allow');
    expect(allowed.status).toBe(303);

    const second = webRequest(server);
    const again = await browser.get(second.url);
    expect(again.status).toBe(302);
    const params = redirectParams(again.location);
    expect(params.state).toBe(second.state);
    expect((await exchangeCode(server, params.code!, second.pkce.verifier)).status).toBe(200);

    // A wider scope than the one consented to asks again.
    expect((await browser.get(webRequest(server, { scope: 'read write' }).url)).status).toBe(200);
  });

  it('never asks consent for a --skip-consent client: sign-in leads straight back to it', async () => {
    const browser = new Browser();
    const { url, state } = webRequest(server, {
      client_id: FIRST_PARTY.clientId,
      redirect_uri: FIRST_PARTY.redirectUri,
    });
    const signedIn = await signInThrough(server, browser, url);
    expect(signedIn.status).toBe(303);
    const back = await browser.get(url);
    expect(back.status).toBe(302);
    expect(redirectParams(back.location)).toEqual({ code: expect.any(String), state, iss: server.url });
  });

  it('answers Deny with access_denied, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', async () => {
    const browser = new Browser();
    const { url, state } = webRequest(server, { scope: 'write' });
    await signInThrough(server, browser, url, { username: 'dave', password: 'dave-password-1' });
    const denied = await decide(server, browser, await browser.get(url), 'deny');
    expect(denied.status).toBe(303);
    expect(redirectParams(denied.location)).toMatchObject({ error: 'access_denied', state, iss: server.url });
    expect(redirectParams(denied.location).code).toBeUndefined();
  });
});

describe('sign-in failures', () => {
  it('shows one message for a wrong password and an unknown user, with status 400 and no session', async () => {
    for (const credentials of [
      { username: SEED.username, password: 'wrong' },
      { username: 'nobody-at-all', password: 'whatever' },
    ]) {
      const browser = new Browser();
      const { url } = webRequest(server);
      const failed = await signInThrough(server, browser, url, credentials);
      expect(failed.status).toBe(400);
      expect(failed.body).toContain('<p class="error" role="alert">Wrong username or password.</p>');
      expect(failed.body).not.toContain(credentials.password);
      expect([...browser.cookies.keys()]).toEqual(['oauthd_csrf']);
      // The page again, with a working form.
      expect(formsOf(failed.body)[0]?.hidden.step).toBe('login');
    }
  });
});

describe('sign-out', () => {
  it('ends the session: the cookie is cleared, and the old cookie no longer signs anyone in', async () => {
    const browser = new Browser();
    const { url } = webRequest(server);
    await signInThrough(server, browser, url);
    const stolen = browser.cookies.get('oauthd_session');
    expect(stolen).toEqual(expect.any(String));

    const page = await browser.get(`${server.oauthUrl}/logout/`);
    expect(page.status).toBe(200);
    const [form] = formsOf(page.body);
    expect(page.body).toContain('>Sign out</button>');
    const out = await browser.post(actionUrl(server, form!.action), form!.hidden);
    expect(out.status).toBe(200);
    expect(out.body).toContain('You are signed out');
    expect(out.setCookies).toContainEqual(expect.stringMatching(/^oauthd_session=; Path=\/; Max-Age=0; HttpOnly/));
    expect(browser.cookies.has('oauthd_session')).toBe(false);

    // The login page again, even for a browser that kept the cookie.
    const replay = new Browser();
    replay.cookies.set('oauthd_session', stolen!);
    const again = await replay.get(url);
    expect(again.status).toBe(200);
    expect(formsOf(again.body)[0]?.hidden.step).toBe('login');
  });

  it('signs out from the consent page ("Not you?")', async () => {
    const browser = new Browser();
    const { url } = webRequest(server, { scope: 'write' });
    await signInThrough(server, browser, url, { username: 'erin', password: 'erin-password-1' });
    const [, signOut] = formsOf((await browser.get(url)).body);
    const out = await browser.post(actionUrl(server, signOut!.action), signOut!.hidden);
    expect(out.status).toBe(200);
    expect(formsOf((await browser.get(url)).body)[0]?.hidden.step).toBe('login');
  });
});

describe('the authorization request', () => {
  it('is checked again on every POST: a form posted with a changed query is judged on that query', async () => {
    const browser = new Browser();
    const { url } = webRequest(server);
    const [form] = formsOf((await browser.get(url)).body);
    const tampered = authorizeUrl(server, { client_id: 'no-such-client', redirect_uri: WEB.redirectUri });
    const response = await browser.post(tampered, {
      ...form!.hidden,
      username: SEED.username,
      password: SEED.password,
    });
    expect(response.status).toBe(400);
    expect(browser.cookies.has('oauthd_session')).toBe(false);
  });
});

describe('under OAUTHD_BASE_PATH', () => {
  it('keeps the base path in every form, link and redirect, and in iss', async () => {
    const prefixed = await startTestServer({ OAUTHD_BASE_PATH: '/api/secure', OAUTHD_SCOPES: 'read write' });
    try {
      await seedSpecSample(prefixed);
      await createCodeClient(prefixed, WEB, { redirectUris: [WEB.redirectUri] });
      const browser = new Browser();
      const { url, state } = webRequest(prefixed);
      expect(url.startsWith(`${prefixed.url}/api/secure/o/authorize/?`)).toBe(true);
      const login = await browser.get(url);
      expect(login.body).toContain('href="/api/secure/o/static/oauthd.css?v=');
      expect(formsOf(login.body)[0]?.action.startsWith('/api/secure/o/authorize/?')).toBe(true);
      expect((await signInThrough(prefixed, browser, url)).location).toBe(url);
      const consent = await browser.get(url);
      expect(formsOf(consent.body)[1]?.action).toBe('/api/secure/o/logout/');
      const allowed = await decide(prefixed, browser, consent, 'allow');
      expect(redirectParams(allowed.location)).toMatchObject({ state, iss: `${prefixed.url}/api/secure` });
    } finally {
      await prefixed.stop();
    }
  });
});
