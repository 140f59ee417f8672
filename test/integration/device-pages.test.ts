/**
 * The device page's defences over real HTTP against a real store: CSRF on each of its forms, sign-in first
 * (a step without a session goes back to it), the security headers with form-action 'self' only (nothing
 * redirects to a client), HTML errors, escaping, and the per-IP guessing limit on user codes (RFC 8628 §5.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionUrl } from '../helpers/authorize.js';
import { Browser, formsOf, type PageResponse } from '../helpers/browser.js';
import {
  createDeviceClient,
  type DeviceClient,
  decideDevice,
  enterCode,
  poll,
  signInOnDevicePage,
  startDeviceFlow,
} from '../helpers/device.js';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const TV: DeviceClient = { clientId: 'tv', clientSecret: 'tv-secret' };
const ATTEMPTS = 4;

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE: '1000' });
  await seedSpecSample(server);
  await createDeviceClient(server, TV);
});

afterAll(async () => {
  await server?.stop();
});

function expectPageHeaders(response: PageResponse) {
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('content-security-policy')).toBe(
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
      "frame-ancestors 'none'; base-uri 'none'",
  );
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

const expectErrorPage = (response: PageResponse, status: number) => {
  expect(response.status).toBe(status);
  expectPageHeaders(response);
  expect(response.body).not.toMatch(/"error"\s*:|at .*\.ts:\d+/);
};

/** A browser signed in on the device page. */
async function signedInBrowser(): Promise<Browser> {
  const browser = new Browser();
  expect((await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`)).status).toBe(303);
  return browser;
}

describe('the pages of the device flow', () => {
  it('shows the login page first, its form posting back with the user_code of the link', async () => {
    const page = await new Browser().get(`${server.oauthUrl}/device/?user_code=WDJB-MJHT`);
    expect(page.status).toBe(200);
    expectPageHeaders(page);
    expect(page.body).toContain('Sign in to connect a device to your account.');
    const [form, ...others] = formsOf(page.body);
    expect(others).toEqual([]);
    expect(form).toMatchObject({ action: '/o/device/?user_code=WDJB-MJHT', hidden: { step: 'login' } });
  });

  it('shows the code entry: one field, labelled, capitals, no autocomplete, and a sign-out form', async () => {
    const browser = await signedInBrowser();
    const page = await browser.get(`${server.oauthUrl}/device/`);
    expectPageHeaders(page);
    expect(page.body).toContain('Enter the code shown on your device.');
    expect(page.body).not.toContain('Check that this code matches');
    expect(page.body).toContain('<label for="user_code">Code</label>');
    expect(page.body).toMatch(
      /<input type="text" id="user_code" name="user_code" autocapitalize="characters" autocomplete="off"/,
    );
    expect(page.body).toContain('<button type="submit">Continue</button>');
    const [entry, signOut] = formsOf(page.body);
    expect(entry).toMatchObject({ action: '/o/device/', hidden: { step: 'code' } });
    expect(signOut?.action).toBe('/o/logout/');
  });

  it('escapes a hostile user_code in the link, and never looks it up unasked', async () => {
    const browser = await signedInBrowser();
    const hostile = '"><script>alert(1)</script>';
    const page = await browser.get(`${server.oauthUrl}/device/?user_code=${encodeURIComponent(hostile)}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('answers a wrong password on the device login with the login page again (400)', async () => {
    const browser = new Browser();
    const answer = await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`, {
      username: SEED.username,
      password: 'not-the-password',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Wrong username or password.');
    expect(formsOf(answer.body)[0]?.hidden.step).toBe('login');
  });

  it('sends a step without a session back to the sign-in, and refuses an unknown step', async () => {
    const browser = new Browser();
    await browser.get(`${server.oauthUrl}/device/`);
    for (const step of ['code', 'decision']) {
      const answer = await browser.post(`${server.oauthUrl}/device/`, {
        step,
        user_code: 'BCDF-GHJK',
        csrf_token: 'x',
      });
      expect(answer.status, step).toBe(303);
      expect(answer.location).toBe(`${server.oauthUrl}/device/`);
    }
    const signedIn = await signedInBrowser();
    expectErrorPage(await signedIn.post(`${server.oauthUrl}/device/`, { step: 'other' }), 400);
  });

  it('refuses a decision that is neither allow nor deny, and the code stays pending', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = await signedInBrowser();
    const approval = await enterCode(server, browser, started.user_code);
    const [form] = formsOf(approval.body);
    expectErrorPage(await browser.post(actionUrl(server, form!.action), { ...form!.hidden, decision: 'maybe' }), 400);
    expect((await poll(server, TV, started.device_code)).json.error).toBe('authorization_pending');
  });
});

describe('CSRF on the device page', () => {
  it('refuses a login POST without the token or with another browser’s: 403, no session', async () => {
    const other = new Browser();
    const [otherForm] = formsOf((await other.get(`${server.oauthUrl}/device/`)).body);
    for (const token of [undefined, otherForm!.hidden.csrf_token]) {
      const browser = new Browser();
      await browser.get(`${server.oauthUrl}/device/`);
      const fields: Record<string, string> = { step: 'login', username: SEED.username, password: SEED.password };
      if (token !== undefined) fields.csrf_token = token;
      expectErrorPage(await browser.post(`${server.oauthUrl}/device/`, fields), 403);
      expect(browser.cookies.has('oauthd_session')).toBe(false);
    }
  });

  it('refuses a code POST with a wrong token: 403, not the approval page', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = await signedInBrowser();
    const answer = await browser.post(`${server.oauthUrl}/device/`, {
      step: 'code',
      user_code: started.user_code,
      csrf_token: 'x'.repeat(43),
    });
    expectErrorPage(answer, 403);
    expect(answer.body).not.toContain(TV.clientId);
  });

  it('refuses a decision POST with the token of another session: 403, and the code stays pending', async () => {
    const started = await startDeviceFlow(server, TV);
    const victim = await signedInBrowser();
    const approval = await enterCode(server, victim, started.user_code);
    const attacker = await signedInBrowser();
    const [attackerForm] = formsOf((await attacker.get(`${server.oauthUrl}/device/`)).body);
    const [form] = formsOf(approval.body);
    const forged = await victim.post(actionUrl(server, form!.action), {
      ...form!.hidden,
      csrf_token: attackerForm!.hidden.csrf_token!,
      decision: 'allow',
    });
    expectErrorPage(forged, 403);
    expect((await poll(server, TV, started.device_code)).json.error).toBe('authorization_pending');
    // The real form still works.
    expect((await decideDevice(server, victim, approval, 'allow')).status).toBe(200);
  });

  it('answers a step after sign-out with the sign-in, not the approval', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = await signedInBrowser();
    const [entry, signOut] = formsOf((await browser.get(`${server.oauthUrl}/device/`)).body);
    expect((await browser.post(actionUrl(server, signOut!.action), signOut!.hidden)).status).toBe(200);
    const answer = await browser.post(actionUrl(server, entry!.action), {
      ...entry!.hidden,
      user_code: started.user_code,
    });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`${server.oauthUrl}/device/`);
  });
});

describe('the guessing limit on user codes (RFC 8628 §5.1)', () => {
  let limited: TestServer;

  beforeAll(async () => {
    limited = await startTestServer({ OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE: String(ATTEMPTS) });
    await seedSpecSample(limited);
    await createDeviceClient(limited, TV);
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('answers 429 with Retry-After once an IP tried too many codes, even the right one', async () => {
    const started = await startDeviceFlow(limited, TV);
    const browser = new Browser();
    expect((await signInOnDevicePage(limited, browser, `${limited.oauthUrl}/device/`)).status).toBe(303);
    for (let i = 0; i < ATTEMPTS; i++) expect((await enterCode(limited, browser, 'BCDF-GHJK')).status).toBe(400);
    const refused = await enterCode(limited, browser, started.user_code);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toContain('Too many attempts.');
    expectPageHeaders(refused);
    expect((await poll(limited, TV, started.device_code)).json.error).toBe('authorization_pending');
  });
});

describe('the guessing limit at the decision step', () => {
  let limited: TestServer;

  beforeAll(async () => {
    limited = await startTestServer({ OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE: String(ATTEMPTS) });
    await seedSpecSample(limited);
    await createDeviceClient(limited, TV);
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('answers Allow with 429 and Retry-After once the IP is over the limit, and decides nothing', async () => {
    const started = await startDeviceFlow(limited, TV);
    const browser = new Browser();
    expect((await signInOnDevicePage(limited, browser, `${limited.oauthUrl}/device/`)).status).toBe(303);
    const approval = await enterCode(limited, browser, started.user_code);
    expect(approval.status).toBe(200);
    // The lookup was one guess; the rest of the minute's budget goes on wrong codes.
    for (let i = 1; i < ATTEMPTS; i++) expect((await enterCode(limited, browser, 'BCDF-GHJK')).status).toBe(400);
    const refused = await decideDevice(limited, browser, approval, 'allow');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toContain('Too many attempts');
    expect(refused.body).not.toContain('no longer pending');
    expectPageHeaders(refused);
    expect((await poll(limited, TV, started.device_code)).json.error).toBe('authorization_pending');
  });
});
