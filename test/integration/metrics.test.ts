/**
 * GET /metrics on the admin listener, in the Prometheus text format: request histograms per endpoint, grant type
 * and error code; counters of issuance, rotation, reuse detection, revocation, failures and lockouts; store
 * latency; and event-loop lag. Each counter is shown to move when its event happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WEB,
  createCodeClient,
  decide,
  exchangeCode,
  redirectParams,
  signInThrough,
  webRequest,
} from '../helpers/authorize.js';
import { Browser } from '../helpers/browser.js';
import { createDeviceClient, startDeviceFlow } from '../helpers/device.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_MAX_FAILURES_PER_USER_IP: '2', OAUTHD_BACKOFF_AFTER: '100' });
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${server.adminUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** The value of one sample, 0 when absent. `labels` must match the label set exactly as printed. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('GET /metrics', () => {
  it('counts issuance, rotation, reuse detection and revocation as they happen', async () => {
    const before = await scrape();
    const first = await passwordGrant(server);
    const second = await refreshGrant(server, first.json.refresh_token as string);
    await refreshGrant(server, first.json.refresh_token as string); // reuse → family revoked
    const other = await passwordGrant(server);
    await fetch(`${server.oauthUrl}/revoke_token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: `token=${other.json.refresh_token as string}`,
    });
    expect(second.status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('oauthd_tokens_issued_total', 'grant_type="password"')).toBe(2);
    expect(delta('oauthd_tokens_issued_total', 'grant_type="refresh_token"')).toBe(1);
    expect(delta('oauthd_refresh_tokens_rotated_total')).toBe(1);
    expect(delta('oauthd_refresh_token_reuse_detected_total')).toBe(1);
    expect(delta('oauthd_grants_revoked_total', 'via="reuse_detection"')).toBe(1);
    expect(delta('oauthd_grants_revoked_total', 'via="refresh_token"')).toBe(1);
  });

  it('counts sign-ins, codes issued and exchanged, and code reuse with the grant it revoked', async () => {
    await createCodeClient(server, WEB, { redirectUris: [WEB.redirectUri] });
    const before = await scrape();
    const browser = new Browser();
    const { url, pkce } = webRequest(server);
    expect((await signInThrough(server, browser, url)).status).toBe(303);
    const { code } = redirectParams((await decide(server, browser, await browser.get(url), 'allow')).location);
    expect((await exchangeCode(server, code!, pkce.verifier)).status).toBe(200);
    expect((await exchangeCode(server, code!, pkce.verifier)).status).toBe(400);
    const after = await scrape();
    const delta = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('oauthd_sign_ins_total')).toBe(1);
    expect(delta('oauthd_authorization_codes_issued_total')).toBe(1);
    expect(delta('oauthd_tokens_issued_total', 'grant_type="authorization_code"')).toBe(1);
    expect(delta('oauthd_authorization_code_reuse_detected_total')).toBe(1);
    expect(delta('oauthd_grants_revoked_total', 'via="code_reuse"')).toBe(1);
  });

  it('counts device requests approved and denied', async () => {
    const tv = { clientId: 'tv', clientSecret: null };
    await createDeviceClient(server, tv);
    const before = await scrape();
    const person = { userId: 1, username: SEED.username };
    for (const approved of [true, false, true]) {
      const { user_code } = await startDeviceFlow(server, tv);
      const decided = await server.services.deviceFlow.decide(user_code, approved, person, '127.0.0.1');
      expect(decided).toEqual({ ok: true, approved });
    }
    const after = await scrape();
    const delta = (labels: string) =>
      sample(after, 'oauthd_device_decisions_total', labels) - sample(before, 'oauthd_device_decisions_total', labels);
    expect(delta('decision="approved"')).toBe(2);
    expect(delta('decision="denied"')).toBe(1);
  });

  it('counts failed logins, failed client authentications and lockouts', async () => {
    const before = await scrape();
    await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: 'wrong' },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: 'wrong' },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: SEED.password },
      { authorization: basic(SEED.clientId, 'bad') },
    );
    const after = await scrape();
    const delta = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('oauthd_login_failures_total', 'reason="wrong password"')).toBe(2);
    expect(delta('oauthd_lockouts_total', 'subject="user"')).toBe(1);
    expect(delta('oauthd_client_auth_failures_total')).toBe(1);
  });

  it('has a latency histogram per endpoint, grant type and error code', async () => {
    await postToken(server, { grant_type: 'bogus' }, { authorization: basic(SEED.clientId, SEED.clientSecret) });
    const text = await scrape();
    expect(
      sample(
        text,
        'oauthd_http_request_duration_seconds_count',
        'route="/o/token/",method="POST",status="200",grant_type="password",error=""',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(
        text,
        'oauthd_http_request_duration_seconds_count',
        'route="/o/token/",method="POST",status="400",grant_type="refresh_token",error="invalid_grant"',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'oauthd_http_request_duration_seconds_count',
        'route="/o/token/",method="POST",status="400",grant_type="other",error="unsupported_grant_type"',
      ),
    ).toBe(1);
    expect(text).toContain('oauthd_http_request_duration_seconds_bucket{le="0.005",route="/o/token/"');
  });

  it('records store latency per operation and the event-loop lag', async () => {
    const text = await scrape();
    expect(
      sample(text, 'oauthd_store_operation_duration_seconds_count', 'operation="issueTokens",outcome="ok"'),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'oauthd_store_operation_duration_seconds_count', 'operation="rotateRefreshToken",outcome="ok"'),
    ).toBeGreaterThan(0);
    expect(text).toMatch(/^oauthd_nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^oauthd_nodejs_eventloop_lag_p99_seconds \d/m);
  });
});
