/**
 * The console's sign-in asks for the password every time (core/authorize/fresh-sign-in.ts), over real HTTP on a
 * real store. The attack it stops: the console's client is public and skips consent, and its callback is on the
 * admin listener's address (127.0.0.1:8001 through the documented SSH tunnel). While the tunnel is down a local
 * program can listen there and open the browser at the authorize endpoint with its own PKCE challenge; were the
 * login page's 8-hour session enough, a code would come back with no page shown and buy an oauthd:admin token.
 * With a sign-in older than FRESH_SIGN_IN_SECONDS the login page is shown instead, and no code is issued; every
 * other client keeps the session's single sign-on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CLIENT_ID } from '../../src/core/console-client.js';
import { FRESH_SIGN_IN_SECONDS } from '../../src/core/authorize/fresh-sign-in.js';
import { csrfToken } from '../../src/http/pages/csrf.js';
import { authorizeUrl, createCodeClient, pkcePair, redirectParams, signInThrough } from '../helpers/authorize.js';
import { Browser, formsOf } from '../helpers/browser.js';
import { ADMIN, consoleSignIn, consoleUrl, createAdminUser, csrfOf, h1Of } from '../helpers/console.js';
import { postToken, startTestServer, type TestServer, testClock } from '../helpers/server.js';

const clock = testClock();
let server: TestServer;

const SSO_APP = { clientId: 'sso-app', clientSecret: 'sso-app-secret', redirectUri: 'https://sso.example/cb' };
const NOTICE = 'It asks for your password at each sign-in, even when this browser is already signed in.';

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  await createAdminUser(server);
  await createCodeClient(server, SSO_APP, { redirectUris: [SSO_APP.redirectUri], skipConsent: true });
});

afterAll(async () => {
  await server.stop();
});

/** What the local program opens the browser at: the console's client and callback, its own PKCE pair. */
function attackerRequest() {
  const pkce = pkcePair();
  const url = authorizeUrl(server, {
    response_type: 'code',
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: server.services.console.redirectUri(),
    scope: 'oauthd:admin',
    state: 'attacker-state',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  return { url, pkce };
}

/** The admin's browser: signed in to the console (and so on the login page), then the window passes. */
async function staleAdminBrowser(): Promise<Browser> {
  const browser = new Browser();
  expect((await consoleSignIn(server, browser)).status).toBe(200);
  expect(browser.cookies.get('oauthd_session')).toBeDefined();
  clock.advance(FRESH_SIGN_IN_SECONDS + 1);
  return browser;
}

async function consoleCodesSince(since: number) {
  await server.services.audit.flush();
  return server.services.store.queryAuditEvents({
    event: 'authorization_code.issued',
    clientId: CONSOLE_CLIENT_ID,
    since,
    limit: 10,
  });
}

describe('a console sign-in with a browser signed in for more than a minute', () => {
  it("shows the login page (200) to an attacker's authorize request, and issues no code", async () => {
    const browser = await staleAdminBrowser();
    const since = clock.now();
    const { url } = attackerRequest();
    const page = await browser.get(url);
    expect(page.status).toBe(200);
    expect(page.location).toBeNull();
    expect(h1Of(page.body)).toBe('Sign in');
    expect(page.body).toContain(NOTICE);
    expect(formsOf(page.body)[0]?.hidden.step).toBe('login');
    expect(await consoleCodesSince(since)).toEqual([]);
  });

  it('issues no code to a consent form posted with the session (back to the login page)', async () => {
    const browser = await staleAdminBrowser();
    const since = clock.now();
    const { url } = attackerRequest();
    const session = browser.cookies.get('oauthd_session')!;
    const posted = await browser.post(url, { step: 'consent', decision: 'allow', csrf_token: csrfToken(session) });
    expect(posted.status).toBe(303);
    expect(posted.location).toBe(url);
    expect((await browser.get(url)).status).toBe(200);
    expect(await consoleCodesSince(since)).toEqual([]);
  });

  it('keeps single sign-on for every other client: a skip-consent client still gets its code', async () => {
    const browser = await staleAdminBrowser();
    const back = await browser.get(
      authorizeUrl(server, {
        response_type: 'code',
        client_id: SSO_APP.clientId,
        redirect_uri: SSO_APP.redirectUri,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(back.status).toBe(302);
    expect(redirectParams(back.location).code).toEqual(expect.any(String));
  });
});

describe('a fresh sign-in', () => {
  it('goes on to the code after the login form (no loop), and the code buys the admin token', async () => {
    const browser = await staleAdminBrowser();
    const { url, pkce } = attackerRequest();
    const signedIn = await signInThrough(server, browser, url, ADMIN);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe(url);
    const back = await browser.get(url);
    expect(back.status).toBe(302);
    const params = redirectParams(back.location);
    expect(back.location!.startsWith(`${server.adminUrl}/console/callback?`)).toBe(true);
    const token = await postToken(server, {
      grant_type: 'authorization_code',
      client_id: CONSOLE_CLIENT_ID,
      code: params.code!,
      redirect_uri: server.services.console.redirectUri(),
      code_verifier: pkce.verifier,
    });
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('oauthd:admin');
  });

  it('is what the console asks for after signing out: /console/ → the login page → the dashboard', async () => {
    const browser = await staleAdminBrowser();
    const dashboard = await browser.get(consoleUrl(server, '/console/'));
    expect(h1Of(dashboard.body)).toBe('Dashboard');
    const out = await browser.post(consoleUrl(server, '/console/sign-out'), { csrf: csrfOf(dashboard.body) });
    expect(h1Of(out.body)).toBe('Signed out');
    const start = await browser.get(consoleUrl(server, '/console/'));
    expect(start.status).toBe(303);
    // Still signed in on the login page, yet the password is asked.
    const login = await browser.get(start.location!);
    expect(login.status).toBe(200);
    expect(h1Of(login.body)).toBe('Sign in');
    const signedIn = await signInThrough(server, browser, start.location!, ADMIN);
    const callback = await browser.get((await browser.get(signedIn.location!)).location!);
    expect(callback.status).toBe(200);
    expect(h1Of(callback.body)).toBe('Signed in');
    expect(h1Of((await browser.get(consoleUrl(server, '/console/'))).body)).toBe('Dashboard');
  });
});
