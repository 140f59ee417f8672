/**
 * The pages' defences over real HTTP against a real store: errors of the authorization request (shown or
 * redirected, RFC 6749 §4.1.2.1, with `iss`, RFC 9207), CSRF on every form, cookie attributes over http and
 * https (RFC 6265bis `__Host-`), the security headers and the CSP form-action of the client, the sign-in
 * throttle through the page, HTML errors for every failure, and the static files.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionUrl,
  authorizeUrl,
  createCodeClient,
  decide,
  redirectParams,
  signInThrough,
  WEB,
  webRequest,
} from '../helpers/authorize.js';
import { Browser, formsOf, type PageResponse } from '../helpers/browser.js';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const NATIVE = { clientId: 'native', clientSecret: 'native-secret', redirectUri: 'com.example.app:/oauth2redirect' };
const LOOPBACK = { clientId: 'cli-tool', clientSecret: 'cli-tool-secret', redirectUri: 'http://127.0.0.1/callback' };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' });
  await seedSpecSample(server);
  await createCodeClient(server, WEB, { redirectUris: [WEB.redirectUri] });
  await createCodeClient(server, NATIVE, { redirectUris: [NATIVE.redirectUri] });
  await createCodeClient(server, LOOPBACK, { redirectUris: [LOOPBACK.redirectUri] });
});

afterAll(async () => {
  await server.stop();
});

function expectSecurityHeaders(response: PageResponse, formAction = "'self'") {
  expect(response.headers.get('content-security-policy')).toBe(
    `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; ` +
      "frame-ancestors 'none'; base-uri 'none'",
  );
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

const expectErrorPage = (response: PageResponse, status: number) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.location).toBeNull();
  expect(response.body).not.toMatch(/"error"\s*:|at .*\.ts:\d+/);
  expectSecurityHeaders(response);
};

describe('errors of the authorization request', () => {
  it('shows, never redirects, when the client or the redirect URI is not known good (RFC 6749 §4.1.2.1)', async () => {
    const hostile = '<script>alert(1)</script>';
    const cases: Record<string, string>[] = [
      { response_type: 'code', client_id: hostile, redirect_uri: WEB.redirectUri },
      { response_type: 'code', client_id: WEB.clientId, redirect_uri: 'https://evil.example/cb' },
      { response_type: 'code', redirect_uri: WEB.redirectUri },
      {},
    ];
    for (const params of cases) {
      const response = await new Browser().get(authorizeUrl(server, params));
      expectErrorPage(response, 400);
      expect(response.body).not.toContain('<script>');
      expect(response.body).not.toContain('evil.example');
    }
    const unregistered = await new Browser().get(
      authorizeUrl(server, { response_type: 'code', client_id: WEB.clientId, redirect_uri: 'https://evil.example/' }),
    );
    expect(unregistered.body).toContain('<code>invalid_request</code>');
    expect(unregistered.body).toContain('The redirect_uri is not registered for this client.');
  });

  it('redirects every other error to the client with error, state and iss (RFC 9207)', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'admin' }, 'invalid_scope'],
      [{ code_challenge: '' }, 'invalid_request'],
    ];
    for (const [change, error] of cases) {
      const { url, state } = webRequest(server, change);
      const response = await new Browser().get(url);
      expect(response.status, error).toBe(302);
      expect(response.location!.startsWith(`${WEB.redirectUri}?`)).toBe(true);
      expect(redirectParams(response.location), error).toMatchObject({ error, state, iss: server.url });
    }
  });
});

describe('CSRF', () => {
  it('refuses a login POST without the token, a wrong one or another browser’s: 403, no session', async () => {
    const { url } = webRequest(server);
    const other = new Browser();
    const [otherForm] = formsOf((await other.get(url)).body);
    for (const token of [undefined, 'forged', otherForm!.hidden.csrf_token]) {
      const browser = new Browser();
      const [form] = formsOf((await browser.get(url)).body);
      const fields: Record<string, string> = { step: 'login', username: SEED.username, password: SEED.password };
      if (token !== undefined) fields.csrf_token = token;
      const response = await browser.post(actionUrl(server, form!.action), fields);
      expectErrorPage(response, 403);
      expect(browser.cookies.has('oauthd_session')).toBe(false);
    }
  });

  it('refuses a login POST from a browser without the CSRF cookie (a cross-site form)', async () => {
    const { url } = webRequest(server);
    const victim = new Browser();
    const [form] = formsOf((await victim.get(url)).body);
    const response = await new Browser().post(actionUrl(server, form!.action), {
      ...form!.hidden,
      username: SEED.username,
      password: SEED.password,
    });
    expectErrorPage(response, 403);
    expect(response.setCookies.filter((c) => c.startsWith('oauthd_session'))).toEqual([]);
  });

  it('refuses a consent POST with a wrong token: 403, no code, and nothing remembered', async () => {
    const browser = new Browser();
    const { url } = webRequest(server, { scope: 'write' });
    await signInThrough(server, browser, url);
    const consent = await browser.get(url);
    const [form] = formsOf(consent.body);
    expect(form?.hidden.step).toBe('consent');
    const response = await browser.post(actionUrl(server, form!.action), {
      ...form!.hidden,
      csrf_token: 'x'.repeat(43),
      decision: 'allow',
    });
    expectErrorPage(response, 403);
    // Still asked: the consent was not remembered.
    expect(formsOf((await browser.get(url)).body)[0]?.hidden.step).toBe('consent');
  });

  it('refuses a sign-out POST without the token, and the session lives on', async () => {
    const browser = new Browser();
    const { url } = webRequest(server, { scope: 'write' });
    await signInThrough(server, browser, url);
    expectErrorPage(await browser.post(`${server.oauthUrl}/logout/`, {}), 403);
    const consent = await browser.get(url);
    expect(formsOf(consent.body)[0]?.hidden.step).toBe('consent');
  });
});

describe('cookies', () => {
  it('over http: HttpOnly, SameSite=Lax, Path=/, Max-Age, no Secure and no __Host- prefix', async () => {
    const browser = new Browser();
    const { url } = webRequest(server);
    const login = await browser.get(url);
    expect(login.setCookies).toEqual([
      expect.stringMatching(/^oauthd_csrf=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/),
    ]);
    const signedIn = await signInThrough(server, browser, url);
    expect(signedIn.setCookies).toEqual([
      expect.stringMatching(/^oauthd_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/),
    ]);
  });

  it('behind a trusted proxy saying https: Secure and __Host-, and the flow works with them', async () => {
    const behind = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_TRUST_PROXY: '127.0.0.1' });
    try {
      await seedSpecSample(behind);
      await createCodeClient(behind, WEB, { redirectUris: [WEB.redirectUri] });
      const browser = new Browser({ 'x-forwarded-proto': 'https' });
      const { url, state } = webRequest(behind);
      const login = await browser.get(url);
      expect(login.setCookies).toEqual([
        expect.stringMatching(/^__Host-oauthd_csrf=[\w-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/),
      ]);
      const signedIn = await signInThrough(behind, browser, url);
      expect(signedIn.setCookies).toEqual([
        expect.stringMatching(/^__Host-oauthd_session=[\w-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/),
      ]);
      const allowed = await decide(behind, browser, await browser.get(url), 'allow');
      // The issuer follows the forwarded scheme.
      expect(redirectParams(allowed.location)).toMatchObject({ state, iss: behind.url.replace('http:', 'https:') });
      // Without the header the same server is plain http: the __Host- cookies are not read.
      expect((await new Browser().get(url)).setCookies[0]).toMatch(/^oauthd_csrf=/);
    } finally {
      await behind.stop();
    }
  });
});

describe('cookies with an https OAUTHD_ISSUER', () => {
  it('are Secure and __Host- even when the proxy in front does not say https', async () => {
    const issued = await startTestServer({ OAUTHD_ISSUER: 'https://auth.example.com', OAUTHD_SCOPES: 'read write' });
    try {
      await createCodeClient(issued, WEB, { redirectUris: [WEB.redirectUri] });
      const login = await new Browser().get(webRequest(issued).url);
      expect(login.status).toBe(200);
      expect(login.setCookies).toEqual([expect.stringMatching(/^__Host-oauthd_csrf=[\w-]{43}; .*; Secure$/)]);
    } finally {
      await issued.stop();
    }
  });
});

describe('security headers and the form-action of the client', () => {
  it("allow the login and consent forms to end at the client's origin, and nothing else", async () => {
    const browser = new Browser();
    const { url } = webRequest(server, { scope: 'write' });
    expectSecurityHeaders(await browser.get(url), "'self' https://app.example.com");
    await signInThrough(server, browser, url);
    const consent = await browser.get(url);
    expect(formsOf(consent.body)[0]?.hidden.step).toBe('consent');
    expectSecurityHeaders(consent, "'self' https://app.example.com");
    expectSecurityHeaders(await browser.get(`${server.oauthUrl}/logout/`));
  });

  it('use the scheme of a private-use redirect URI and the port of a loopback one (RFC 8252 §7.1, §7.3)', async () => {
    const native = webRequest(server, { client_id: NATIVE.clientId, redirect_uri: NATIVE.redirectUri });
    expectSecurityHeaders(await new Browser().get(native.url), "'self' com.example.app:");
    const loopback = webRequest(server, {
      client_id: LOOPBACK.clientId,
      redirect_uri: 'http://127.0.0.1:51234/callback',
    });
    expectSecurityHeaders(await new Browser().get(loopback.url), "'self' http://127.0.0.1:51234");
  });
});

describe('the pages answer HTML for every failure', () => {
  it('a JSON body (415), a body over the limit (413), broken percent-encoding or bytes not UTF-8 (400)', async () => {
    const { url } = webRequest(server);
    const browser = new Browser();
    expectErrorPage(
      await browser.send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      415,
    );
    const big = `step=login&x=${'a'.repeat(server.config.http.maxBodyBytes)}`;
    const tooLarge = await browser.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: big,
    });
    expectErrorPage(tooLarge, 413);
    const broken = await browser.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'step=login&csrf_token=%zz',
    });
    expectErrorPage(broken, 400);
    expectErrorPage(await browser.get(`${server.oauthUrl}/authorize/?client_id=%zz`), 400);
    // A Latin-1 byte in a password is refused, never passed on as U+FFFD (http/body.ts strictBodyParser).
    const notUtf8 = await browser.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('step=login&username=alice&password=caf\xe9', 'latin1'),
    });
    expectErrorPage(notUtf8, 400);
  });
});

describe('static files', () => {
  it('serves the stylesheet linked by the pages, immutable, with an ETag that answers 304', async () => {
    const page = await new Browser().get(webRequest(server).url);
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)![1]!;
    expect(href).toMatch(/^\/o\/static\/oauthd\.css\?v=[\w-]{12}$/);
    const css = await fetch(new URL(href, server.url));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await css.text()).toContain('prefers-color-scheme:dark');
    const etag = css.headers.get('etag')!;
    const again = await fetch(new URL(href, server.url), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the configured logo with its Content-Type, and shows it with a text alternative', async () => {
    const logoFile = join(tmpdir(), `oauthd-logo-${process.pid}.png`);
    writeFileSync(logoFile, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const branded = await startTestServer({ OAUTHD_LOGO_FILE: logoFile, OAUTHD_PRODUCT_NAME: 'Payouts' });
    try {
      const page = await new Browser().get(`${branded.oauthUrl}/logout/`);
      const src = /<img src="([^"]+)" alt="Payouts">/.exec(page.body)![1]!;
      const logo = await fetch(new URL(src, branded.url));
      expect(logo.status).toBe(200);
      expect(logo.headers.get('content-type')).toBe('image/png');
      expect(
        Buffer.from(await logo.arrayBuffer())
          .subarray(0, 4)
          .toString('hex'),
      ).toBe('89504e47');
      expect((await fetch(`${server.oauthUrl}/static/logo`)).status).toBe(404);
    } finally {
      await branded.stop();
    }
  });
});

describe('the sign-in throttle through the page', () => {
  it('answers 429 with Retry-After and "Too many attempts" once locked, whatever the password', async () => {
    const locked = await startTestServer({ OAUTHD_MAX_FAILURES_PER_USER_IP: '2', OAUTHD_BACKOFF_AFTER: '100' });
    try {
      await seedSpecSample(locked);
      await createCodeClient(locked, WEB, { redirectUris: [WEB.redirectUri] });
      const { url } = webRequest(locked);
      for (let i = 0; i < 2; i++) {
        const failed = await signInThrough(locked, new Browser(), url, { username: SEED.username, password: 'no' });
        expect(failed.status).toBe(400);
      }
      const throttled = await signInThrough(locked, new Browser(), url);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(throttled.body).toContain('Too many attempts');
      expect(throttled.setCookies.filter((c) => c.includes('oauthd_session'))).toEqual([]);
    } finally {
      await locked.stop();
    }
  });
});
