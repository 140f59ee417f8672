/**
 * The device authorization grant (RFC 8628) with the person's side in a real browser (Debian's Chromium):
 * the device asks for codes (§3.1-3.2), the person opens verification_uri, signs in, types the user code in
 * lower case (§6.1: case-insensitive) and allows; the device's polls (§3.4-3.5) then get tokens.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, watchPage } from '../helpers/chromium.js';
import { asksForDecision, asksToSignIn, decide, enterUserCode, signIn } from '../helpers/browser-flow.js';
import { postToken, startTestServer, type TestServer, userinfo } from '../helpers/server.js';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';

const DEVICE = { clientId: 'living-room-tv', name: 'Living room TV' };
const DANA = { username: 'dana', password: 'signs in on the phone' };
const POLL_INTERVAL = 1;

let server: TestServer | undefined;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  await Promise.all([
    startTestServer({
      OAUTHD_SCOPES: 'read write',
      OAUTHD_DEFAULT_SCOPES: 'read',
      OAUTHD_DEVICE_POLL_INTERVAL: String(POLL_INTERVAL),
    }).then((s) => {
      server = s;
    }),
    launchBrowser().then((b) => {
      browser = b;
    }),
  ]);
  const { admin } = server!.services;
  await admin.createUser(DANA.username, DANA.password);
  await admin.createClient({ ...DEVICE, isPublic: true, grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'] });
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** RFC 8628 §3.1: a public client authenticates by its client_id. */
async function deviceAuthorization(): Promise<Record<string, unknown>> {
  const response = await fetch(`${server!.oauthUrl}/device-authorization/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: DEVICE.clientId, scope: 'read' }).toString(),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const poll = (deviceCode: string) =>
  postToken(server!, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: DEVICE.clientId });

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Polls as a device does (§3.5): every `interval` seconds, five more after slow_down, until not pending. */
async function pollUntilDecided(deviceCode: string, interval: number) {
  let wait = interval;
  for (let attempt = 0; attempt < 5; attempt++) {
    await sleep(wait);
    const answer = await poll(deviceCode);
    if (answer.json.error === 'slow_down') wait += 5;
    else if (answer.json.error !== 'authorization_pending') return answer;
  }
  throw new Error('the device request stayed pending after five polls');
}

/** Signs in wherever the device pages ask for it: before the code or after it. */
async function signInIfAsked(page: Page): Promise<void> {
  if (await asksToSignIn(page)) await signIn(page, DANA.username, DANA.password);
}

describe('the device flow with the person in Chromium', () => {
  it('approves a lower-case user code after sign-in, and the polling device gets working tokens', async () => {
    const codes = await deviceAuthorization();
    expect(codes).toMatchObject({ interval: POLL_INTERVAL });
    const userCode = String(codes.user_code);
    expect(userCode).toMatch(/[A-Z]/);

    // Before anyone approves, the device is told to keep waiting (§3.5).
    await sleep(POLL_INTERVAL);
    const pending = await poll(String(codes.device_code));
    expect(pending.json).toMatchObject({ error: 'authorization_pending' });

    const context = await browser!.newContext();
    context.setDefaultTimeout(5_000);
    const page = await context.newPage();
    const watch = await watchPage(page);
    const opened = await page.goto(String(codes.verification_uri));
    expect(opened?.status()).toBe(200);
    await signInIfAsked(page);
    await enterUserCode(page, userCode.toLowerCase());
    await signInIfAsked(page);

    expect(await asksForDecision(page)).toBe(true);
    expect(await page.getByText(DEVICE.name).first().isVisible()).toBe(true);
    await decide(page, 'Allow');
    // The done page: no more decision to take, no error status.
    expect(watch.documents.at(-1)?.status()).toBe(200);
    expect(await asksForDecision(page)).toBe(false);
    // Each page came with its CSP, and the browser found nothing on them to refuse.
    const pages = watch.documents.filter((r) => r.url().startsWith(server!.url) && r.status() === 200);
    expect(pages.length).toBeGreaterThanOrEqual(3); // code entry, approval, done (and the login page)
    for (const response of pages) {
      expect((await response.allHeaders())['content-security-policy']).toContain("default-src 'none'");
    }
    expect(watch.cspViolations()).toEqual([]);
    await context.close();

    const tokens = await pollUntilDecided(String(codes.device_code), POLL_INTERVAL);
    expect(tokens.status).toBe(200);
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    const me = await userinfo(server!, String(tokens.json.access_token));
    expect(me.json).toMatchObject({ username: DANA.username });
  });
});
