/**
 * The device authorization grant over real HTTP against a real store (SQLite, or PostgreSQL with
 * OAUTHD_TEST_STORE=postgres): the device authorization endpoint (RFC 8628 §3.1–3.2), the person's side on
 * the device page (§3.3), and the device's polls of the token endpoint with every answer of §3.5
 * (authorization_pending, slow_down, access_denied, expired_token), tokens, and single use. Time is the test
 * clock of the server, so polling intervals and expiry are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { Browser, formsOf } from '../helpers/browser.js';
import {
  answerOnDevicePage,
  createDeviceClient,
  decideDevice,
  type DeviceClient,
  enterCode,
  poll,
  signInOnDevicePage,
  startDeviceFlow,
} from '../helpers/device.js';
import { SEED, seedSpecSample, startTestServer, type TestServer, testClock, userinfo } from '../helpers/server.js';

let server: TestServer;
const clock = testClock();
const TV: DeviceClient = { clientId: 'living-room-tv', clientSecret: 'living-room-tv-secret' };
/** A public client (a CLI) without the refresh grant. */
const CLI_TOOL: DeviceClient = { clientId: 'deploy-cli', clientSecret: null };

beforeAll(async () => {
  server = await startTestServer(
    {
      OAUTHD_SCOPES: 'read write',
      OAUTHD_DEFAULT_SCOPES: 'read',
      OAUTHD_SCOPE_DESCRIPTIONS: JSON.stringify({ read: 'See your payouts' }),
      // These tests enter many codes from 127.0.0.1; the guessing limit has a test of its own.
      OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE: '1000',
    },
    { clock },
  );
  await seedSpecSample(server);
  await createDeviceClient(server, { ...TV, name: 'Living <Room> TV' });
  await createDeviceClient(server, CLI_TOOL, [DEVICE_CODE_GRANT]);
});

afterAll(async () => {
  await server?.stop();
});

/** A poll's error code, asserting the RFC 6749 §5.2 shape and status 400 (RFC 8628 §3.5). */
async function pollError(client: DeviceClient, deviceCode: string): Promise<string> {
  const answer = await poll(server, client, deviceCode);
  expect(answer.status, JSON.stringify(answer.json)).toBe(400);
  expect(Object.keys(answer.json)).toEqual(['error', 'error_description']);
  return answer.json.error as string;
}

describe('the device flow, from the device authorization request to tokens', () => {
  it('polls pending, slows down by 5 s, is approved on the page, redeems once', async () => {
    const started = await startDeviceFlow(server, TV, { scope: 'read write' });
    expect(started.verification_uri).toBe(`${server.url}/o/device/`);
    expect(started.verification_uri_complete).toBe(`${server.url}/o/device/?user_code=${started.user_code}`);
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started).toMatchObject({ expires_in: 600, interval: 5 });

    // RFC 8628 §3.5: pending; polling again at once is slow_down, and the interval grows by 5 s.
    expect(await pollError(TV, started.device_code)).toBe('authorization_pending');
    const tooSoon = await poll(server, TV, started.device_code);
    expect(tooSoon.json).toEqual({
      error: 'slow_down',
      error_description: 'Polling too fast: wait at least 10 seconds between requests.',
    });
    clock.advance(5);
    // 5 s is no longer enough: the interval is 10 now, and this poll makes it 15.
    expect(await pollError(TV, started.device_code)).toBe('slow_down');
    clock.advance(15);
    expect(await pollError(TV, started.device_code)).toBe('authorization_pending');

    // The person opens verification_uri_complete: sign in first, the code kept in the URL.
    const browser = new Browser();
    const signedIn = await signInOnDevicePage(server, browser, started.verification_uri_complete);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe(started.verification_uri_complete);
    const entry = await browser.get(started.verification_uri_complete);
    expect(entry.body).toContain(`value="${started.user_code}"`);
    expect(entry.body).toContain('Check that this code matches the one on your device');
    const [codeForm] = formsOf(entry.body);
    const approval = await browser.post(`${server.url}${codeForm!.action}`, {
      ...codeForm!.hidden,
      user_code: started.user_code,
    });
    expect(approval.status).toBe(200);
    expect(approval.body).toContain('Allow <strong>Living &lt;Room&gt; TV</strong> to use your account?');
    expect(approval.body).toContain('<li>See your payouts</li><li>write</li>');
    expect(approval.body).toContain(`<strong class="code">${started.user_code}</strong>`);
    const [decisionForm] = formsOf(approval.body);
    expect(decisionForm?.hidden).toMatchObject({ step: 'decision', user_code: started.user_code });

    const done = await decideDevice(server, browser, approval, 'allow');
    expect(done.status).toBe(200);
    expect(done.body).toContain('You may return to your device.');

    clock.advance(15);
    const tokens = await poll(server, TV, started.device_code);
    expect(tokens.status).toBe(200);
    expect(Object.keys(tokens.json)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(tokens.json).toMatchObject({ scope: 'read write', token_type: 'Bearer' });
    const who = await userinfo(server, tokens.json.access_token as string);
    expect(who.json).toMatchObject({ username: SEED.username, client_id: TV.clientId });

    // Single use (RFC 8628 §3.5 with RFC 6749 §5.2): a second redemption is invalid_grant.
    clock.advance(15);
    expect(await pollError(TV, started.device_code)).toBe('invalid_grant');
  });

  it('answers access_denied once the person denies, and the page says so', async () => {
    const started = await startDeviceFlow(server, TV);
    const done = await answerOnDevicePage(server, started.user_code, 'deny');
    expect(done.status).toBe(200);
    expect(done.body).toContain('Access denied.');
    expect(await pollError(TV, started.device_code)).toBe('access_denied');
  });

  it('answers expired_token after expires_in, and the page no longer knows the code', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = new Browser();
    await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`);
    clock.advance(started.expires_in);
    expect(await pollError(TV, started.device_code)).toBe('expired_token');
    const again = await enterCode(server, browser, started.user_code);
    expect(again.status).toBe(400);
    expect(again.body).toContain('That code is not valid or has expired.');
  });

  it('finds a code typed in lower case, without its dash, with spaces around', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = new Browser();
    await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`);
    const typed = ` ${started.user_code.replace('-', '').toLowerCase()} `;
    const approval = await enterCode(server, browser, typed);
    expect(approval.status).toBe(200);
    expect(formsOf(approval.body)[0]?.hidden.user_code).toBe(started.user_code);
    expect((await decideDevice(server, browser, approval, 'allow')).status).toBe(200);
    expect((await poll(server, TV, started.device_code)).status).toBe(200);
  });

  it('shows the entry page again for wrong codes, and "no longer pending" for a decided one', async () => {
    const started = await startDeviceFlow(server, TV);
    const browser = new Browser();
    await signInOnDevicePage(server, browser, `${server.oauthUrl}/device/`);
    for (const wrong of ['BBBB-BBBB', 'AEIO-UAEI', '12345678', 'x'.repeat(200)]) {
      const answer = await enterCode(server, browser, wrong);
      expect(answer.status, wrong).toBe(400);
      expect(answer.body).toContain('That code is not valid or has expired.');
      expect(formsOf(answer.body)[0]?.hidden.step).toBe('code');
    }
    const approval = await enterCode(server, browser, started.user_code);
    // Decided in another tab first: the first decision stands.
    expect((await decideDevice(server, browser, approval, 'deny')).status).toBe(200);
    const late = await decideDevice(server, browser, approval, 'allow');
    expect(late.status).toBe(400);
    expect(late.body).toContain('This code is no longer pending');
    expect(await pollError(TV, started.device_code)).toBe('access_denied');
  });

  it('gives a public client without the refresh grant an access token alone', async () => {
    const started = await startDeviceFlow(server, CLI_TOOL);
    expect((await answerOnDevicePage(server, started.user_code, 'allow')).status).toBe(200);
    const tokens = await poll(server, CLI_TOOL, started.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.json.refresh_token).toBeUndefined();
    // The default scope of the server (OAUTHD_DEFAULT_SCOPES) when the request names none.
    expect(tokens.json).toMatchObject({ scope: 'read', token_type: 'Bearer' });
  });

  it("refuses a device code at another client's polls (RFC 8628 §3.4)", async () => {
    const started = await startDeviceFlow(server, TV);
    expect((await answerOnDevicePage(server, started.user_code, 'allow')).status).toBe(200);
    expect(await pollError(CLI_TOOL, started.device_code)).toBe('invalid_grant');
    expect((await poll(server, TV, started.device_code)).status).toBe(200);
  });
});

describe('the audit trail of the device flow', () => {
  it('records device_code.issued, device.approved, device.denied and the tokens, with no code in them', async () => {
    const approved = await startDeviceFlow(server, CLI_TOOL, { scope: 'write' });
    await answerOnDevicePage(server, approved.user_code, 'allow');
    clock.advance(60);
    expect((await poll(server, CLI_TOOL, approved.device_code)).status).toBe(200);
    const denied = await startDeviceFlow(server, CLI_TOOL);
    await answerOnDevicePage(server, denied.user_code, 'deny');
    await server.services.audit.flush();

    const events = await server.services.store.queryAuditEvents({ clientId: CLI_TOOL.clientId, limit: 200 });
    const named = (name: string) => events.filter((e) => e.event === name);
    expect(named('device_code.issued').length).toBeGreaterThanOrEqual(2);
    expect(named('device_code.issued')[0]).toMatchObject({ ip: '127.0.0.1', userId: null });
    expect(named('device.approved')[0]).toMatchObject({ username: SEED.username, ip: '127.0.0.1' });
    expect(JSON.parse(named('device.approved')[0]!.detail)).toMatchObject({ scope: 'write' });
    expect(named('device.denied')[0]).toMatchObject({ username: SEED.username });
    const issued = named('token.issued').map((e) => JSON.parse(e.detail) as Record<string, unknown>);
    expect(issued).toContainEqual(expect.objectContaining({ grant_type: DEVICE_CODE_GRANT }));

    // Codes are secrets (RFC 8628 §5.2): none in the audit trail, the logs or the database.
    const everything = `${JSON.stringify(events)}\n${server.logs()}`;
    const database = (await server.databaseBytes()).toString('latin1');
    for (const secret of [approved.device_code, denied.device_code, approved.user_code, denied.user_code]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.replace('-', ''));
      expect(database).not.toContain(secret);
    }
  });
});
