/**
 * The console's sign-in over real HTTP on a real store: GET /console/ → 303 to the public authorize endpoint
 * (built from the public listener's address, never from the admin request's Host), the login page, the callback
 * (state, RFC 9207 iss, the code exchanged in-process), the cookies' attributes, a non-admin refused, and
 * sign-out revoking the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThrough } from '../helpers/authorize.js';
import { Browser, type PageResponse } from '../helpers/browser.js';
import {
  ADMIN,
  consoleCallbackUrl,
  consoleSignIn,
  consoleUrl,
  createAdminUser,
  csrfOf,
  h1Of,
  PLAIN_USER,
  SESSION_COOKIE,
} from '../helpers/console.js';
import { startTestServer, type TestServer, userinfo } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await createAdminUser(server);
  await server.services.admin.createUser(PLAIN_USER.username, PLAIN_USER.password);
});

afterAll(async () => {
  await server.stop();
});

const cookieNamed = (response: PageResponse, name: string): string | undefined =>
  response.setCookies.find((c) => c.startsWith(`${name}=`));

function expectConsoleHeaders(response: PageResponse) {
  expect(response.headers.get('content-security-policy')).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
      `form-action 'self' ${server.url}; frame-ancestors 'none'; base-uri 'none'`,
  );
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
}

describe('GET /console/ without a session', () => {
  it('redirects to the public authorize endpoint with the console client, S256 and a state', async () => {
    const browser = new Browser();
    const response = await browser.get(consoleUrl(server, '/console/'));
    expect(response.status).toBe(303);
    expectConsoleHeaders(response);
    const location = new URL(response.location!);
    expect(`${location.origin}${location.pathname}`).toBe(`${server.oauthUrl}/authorize/`);
    const params = Object.fromEntries(location.searchParams);
    expect(params).toMatchObject({
      response_type: 'code',
      client_id: 'oauthd-console',
      redirect_uri: `${server.adminUrl}/console/callback`,
      scope: 'oauthd:admin oauthd:admin:read',
      code_challenge_method: 'S256',
    });
    expect(params.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const login = cookieNamed(response, 'oauthd_console_login');
    expect(login).toBeDefined();
    expect(login).toMatch(/; Path=\/console; /);
    expect(login).toMatch(/; HttpOnly/);
    expect(login).toMatch(/; SameSite=Lax/);
  });

  it('ends on the login page (200) on a fresh server', async () => {
    const browser = new Browser();
    const start = await browser.get(consoleUrl(server, '/console/'));
    const login = await browser.get(start.location!);
    expect(login.status).toBe(200);
    expect(h1Of(login.body)).toBe('Sign in');
  });

  it('never builds the authorize URL from a hostile Host header', async () => {
    const browser = new Browser();
    const response = await browser.get(consoleUrl(server, '/console/'), { host: 'evil.example' });
    expect(response.status).toBe(303);
    expect(response.location!.startsWith(`${server.oauthUrl}/authorize/?`)).toBe(true);
    const params = new URL(response.location!).searchParams;
    expect(params.get('redirect_uri')).toBe(`${server.adminUrl}/console/callback`);
    expect(response.headers.get('content-security-policy')).not.toContain('evil.example');
  });
});

describe('the sign-in', () => {
  it('signs an admin in: a Strict, HttpOnly session cookie, then the dashboard', async () => {
    const browser = new Browser();
    const callback = await consoleSignIn(server, browser);
    expect(callback.status).toBe(200);
    expectConsoleHeaders(callback);
    expect(h1Of(callback.body)).toBe('Signed in');
    expect(callback.body).toContain('<meta http-equiv="refresh" content="0;url=/console/">');
    expect(callback.body).toContain('<a href="/console/">Continue</a>');
    const session = cookieNamed(callback, SESSION_COOKIE);
    expect(session).toMatch(/; Path=\/console; /);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).not.toMatch(/Secure/);
    // The login cookie is spent.
    expect(cookieNamed(callback, 'oauthd_console_login')).toMatch(/Max-Age=0/);
    const dashboard = await browser.get(consoleUrl(server, '/console/'));
    expect(dashboard.status).toBe(200);
    expect(h1Of(dashboard.body)).toBe('Dashboard');
    expect(dashboard.body).toContain(`Signed in as <strong>${ADMIN.username}</strong>`);
    expectConsoleHeaders(dashboard);
  });

  it('comes back to the page asked for before signing in', async () => {
    const browser = new Browser();
    const asked = await browser.get(consoleUrl(server, '/console/users?search=a&after=b'));
    expect(asked.status).toBe(303);
    const login = await signInThrough(server, browser, asked.location!, ADMIN);
    const callback = await browser.get((await browser.get(login.location!)).location!);
    expect(callback.status).toBe(200);
    expect(callback.body).toContain('<meta http-equiv="refresh" content="0;url=/console/users?search=a&amp;after=b">');
  });

  it('refuses a non-admin with 403 "This account is not an administrator."', async () => {
    const browser = new Browser();
    const callback = await consoleSignIn(server, browser, PLAIN_USER);
    expect(callback.status).toBe(403);
    expect(callback.body).toContain('This account is not an administrator.');
    expect(cookieNamed(callback, SESSION_COOKIE)).toBeUndefined();
    expect((await browser.get(consoleUrl(server, '/console/'))).status).toBe(303);
  });

  it('writes neither the code, the state nor the session token in a log line', async () => {
    const browser = new Browser();
    const url = new URL(await consoleCallbackUrl(server, browser));
    await browser.get(url.toString());
    const token = browser.cookies.get(SESSION_COOKIE)!;
    const logs = server.logs();
    expect(logs).toContain('/console/callback');
    for (const secret of [token, url.searchParams.get('code')!, url.searchParams.get('state')!]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('signs out: the token is revoked and the cookie cleared', async () => {
    const browser = new Browser();
    await consoleSignIn(server, browser);
    const token = browser.cookies.get(SESSION_COOKIE)!;
    expect((await userinfo(server, token)).status).toBe(200);
    const dashboard = await browser.get(consoleUrl(server, '/console/'));
    const out = await browser.post(consoleUrl(server, '/console/sign-out'), { csrf: csrfOf(dashboard.body) });
    expect(out.status).toBe(200);
    expect(h1Of(out.body)).toBe('Signed out');
    expect(out.body).toContain('Sign in again');
    expect(cookieNamed(out, SESSION_COOKIE)).toMatch(/Max-Age=0/);
    expect((await userinfo(server, token)).status).toBe(401);
    // The old cookie, sent again, is no session.
    const again = await fetch(consoleUrl(server, '/console/'), {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
      redirect: 'manual',
    });
    expect(again.status).toBe(303);
  });

  it('refuses to sign out without the CSRF field', async () => {
    const browser = new Browser();
    await consoleSignIn(server, browser);
    const token = browser.cookies.get(SESSION_COOKIE)!;
    const out = await browser.post(consoleUrl(server, '/console/sign-out'), {});
    expect(out.status).toBe(403);
    expect((await userinfo(server, token)).status).toBe(200);
  });
});

describe('the callback refuses', () => {
  const callbackUrl = (browser: Browser) => consoleCallbackUrl(server, browser);

  const expectRefused = (response: PageResponse) => {
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(h1Of(response.body)).toBe('Sign-in failed');
    expect(cookieNamed(response, SESSION_COOKIE)).toBeUndefined();
  };

  it('an answer without the login cookie (another browser)', async () => {
    const url = await callbackUrl(new Browser());
    expectRefused(await new Browser().get(url));
  });

  it('a state that is not the one of this browser', async () => {
    const browser = new Browser();
    const url = new URL(await callbackUrl(browser));
    url.searchParams.set('state', 'A'.repeat(43));
    expectRefused(await browser.get(url.toString()));
  });

  it('an iss that is not this server (RFC 9207), and one missing', async () => {
    const browser = new Browser();
    const url = new URL(await callbackUrl(browser));
    const original = url.searchParams.get('iss');
    expect(original).toBe(server.url);
    url.searchParams.set('iss', 'https://evil.example');
    expectRefused(await browser.get(url.toString()));
    const other = new Browser();
    const second = new URL(await callbackUrl(other));
    second.searchParams.delete('iss');
    expectRefused(await other.get(second.toString()));
  });

  it('a code without its verifier: the exchange fails, no session', async () => {
    const first = new Browser();
    const url = await callbackUrl(first);
    // A second sign-in in another browser: its own cookie, but the first browser's code.
    const second = new Browser();
    const own = new URL(await callbackUrl(second));
    const stolen = new URL(url);
    stolen.searchParams.set('state', own.searchParams.get('state')!);
    expectRefused(await second.get(stolen.toString()));
  });
});

describe('a console reached over https (OAUTHD_CONSOLE_URL behind a TLS proxy)', () => {
  it('sets the session cookie as __Host- with Secure and Path=/, and the login cookie Secure', async () => {
    const tls = await startTestServer({ OAUTHD_CONSOLE_URL: 'https://console.example' });
    try {
      await createAdminUser(tls);
      const browser = new Browser();
      const start = await browser.get(`${tls.adminUrl}/console/`);
      expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(
        'https://console.example/console/callback',
      );
      expect(cookieNamed(start, 'oauthd_console_login')).toMatch(/; Secure$/);
      const callback = new URL(await consoleCallbackUrl(tls, browser, ADMIN, 'https://console.example'));
      // The proxy would forward https://console.example/console/callback to the admin listener.
      const signedIn = await browser.get(`${tls.adminUrl}${callback.pathname}${callback.search}`);
      expect(signedIn.status).toBe(200);
      const session = cookieNamed(signedIn, `__Host-${SESSION_COOKIE}`);
      expect(session).toMatch(/; Path=\/; /);
      expect(session).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      expect((await browser.get(`${tls.adminUrl}/console/`)).status).toBe(200);
    } finally {
      await tls.stop();
    }
  });
});
