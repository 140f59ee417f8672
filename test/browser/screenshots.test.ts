/**
 * Every page a person sees, walked as a person meets them. On every run, at a 360 px phone's width: each page
 * must fit (no sideways scrolling) and break no rule of its CSP. With OAUTHD_SCREENSHOTS=1 (`npm run
 * screenshots`) the walk is made in three looks (light and dark on a laptop, the phone in light) and writes
 * docs/img/<page>-<look>.png: only then, so the committed images change when someone means them to.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { launchBrowser, pkcePair, type TestBrowser, watchPage } from '../helpers/chromium.js';
import {
  asksToSignIn,
  authorizeUrl,
  decide,
  enterUserCode,
  horizontalOverflow,
  signIn,
} from '../helpers/browser-flow.js';
import { type CallbackServer, startCallbackServer } from '../helpers/callback-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const WRITE = process.env.OAUTHD_SCREENSHOTS === '1';
const IMAGES = fileURLToPath(new URL('../../docs/img/', import.meta.url));

const LOOKS: Record<string, BrowserContextOptions> = {
  light: { viewport: { width: 1024, height: 768 }, colorScheme: 'light' },
  dark: { viewport: { width: 1024, height: 768 }, colorScheme: 'dark' },
  phone: { viewport: { width: 360, height: 740 }, colorScheme: 'light', isMobile: true, hasTouch: true },
};

const WEB = { clientId: 'payouts-dashboard', name: 'Payouts dashboard' };
const TV = { clientId: 'living-room-tv', name: 'Living room TV' };
const PERSON = { username: 'alice', password: 'correct horse battery staple' };

let server: TestServer | undefined;
let browser: TestBrowser | undefined;
let callback: CallbackServer | undefined;

beforeAll(async () => {
  await Promise.all([
    startTestServer({
      OAUTHD_SCOPES: 'read write',
      OAUTHD_DEFAULT_SCOPES: 'read',
      OAUTHD_SCOPE_DESCRIPTIONS: JSON.stringify({ read: 'See your payouts and balances', write: 'Send payouts' }),
    }).then((s) => {
      server = s;
    }),
    launchBrowser().then((b) => {
      browser = b;
    }),
    startCallbackServer().then((c) => {
      callback = c;
    }),
  ]);
  const { admin } = server!.services;
  await admin.createUser(PERSON.username, PERSON.password);
  await admin.createClient({
    ...WEB,
    isPublic: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: 'read write',
    policy: { redirectUris: [callback!.redirectUri] },
  });
  await admin.createClient({ ...TV, isPublic: true, grantTypes: [DEVICE_CODE_GRANT], scopes: 'read write' });
  if (WRITE) mkdirSync(IMAGES, { recursive: true });
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop(), callback?.close()]);
});

async function deviceCodes(): Promise<{ verification_uri: string; user_code: string }> {
  const response = await fetch(`${server!.oauthUrl}/device-authorization/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: TV.clientId, scope: 'read write' }).toString(),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { verification_uri: string; user_code: string };
}

/** Checks the page as it is now, and photographs it when asked to. */
async function look(page: Page, name: string, lookName: string): Promise<void> {
  await page.waitForLoadState('load');
  expect(await horizontalOverflow(page), `${name} is wider than the ${lookName} viewport`).toBeLessThanOrEqual(0);
  if (WRITE) await page.screenshot({ path: `${IMAGES}${name}-${lookName}.png`, fullPage: true });
}

/** Login, consent, an error, sign-out and signed-out, then the three device pages (signing in again). */
async function walk(page: Page, lookName: string): Promise<void> {
  const snap = (name: string) => look(page, name, lookName);
  const oauthUrl = server!.oauthUrl;
  const request = {
    clientId: WEB.clientId,
    redirectUri: callback!.redirectUri,
    scope: 'read write',
    state: 'screenshots',
    codeChallenge: pkcePair().challenge,
  };
  await page.goto(authorizeUrl(server!, request));
  await snap('login');
  await signIn(page, PERSON.username, PERSON.password);
  await snap('consent');
  await decide(page, 'Deny');

  const error = await page.goto(authorizeUrl(server!, { ...request, clientId: 'no-such-client' }));
  expect(error?.status()).toBe(400);
  await snap('error');

  await page.goto(`${oauthUrl}/logout/`);
  await snap('logout');
  const signOut = page.locator('form').getByRole('button', { name: /sign out/i });
  await Promise.all([page.waitForEvent('load'), signOut.click()]);
  await snap('signed-out');

  const codes = await deviceCodes();
  await page.goto(codes.verification_uri);
  // Signed out above: the device pages ask for the sign-in again, before the code or after it.
  if (await asksToSignIn(page)) await signIn(page, PERSON.username, PERSON.password);
  await snap('device-code');
  await enterUserCode(page, codes.user_code);
  if (await asksToSignIn(page)) await signIn(page, PERSON.username, PERSON.password);
  await snap('device-approval');
  await decide(page, 'Allow');
  await snap('device-done');
}

// Without OAUTHD_SCREENSHOTS the phone alone is walked: the narrowest look is where a page overflows, and
// the CSP does not change with the colour scheme. The laptop looks cost time only when their images are made.
const WALKED = WRITE ? Object.entries(LOOKS) : Object.entries(LOOKS).filter(([name]) => name === 'phone');

describe(WRITE ? 'every page, light, dark and at phone width' : 'every page at phone width', () => {
  for (const [lookName, options] of WALKED) {
    it(`fits the ${lookName} viewport and breaks no CSP rule${WRITE ? ' (writing docs/img/)' : ''}`, async () => {
      const context = await browser!.newContext(options);
      context.setDefaultTimeout(5_000);
      const page = await context.newPage();
      const watch = await watchPage(page);
      await walk(page, lookName);
      expect(watch.cspViolations()).toEqual([]);
      await context.close();
    });
  }
});
