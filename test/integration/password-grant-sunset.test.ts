/**
 * Retiring the password grant one client at a time.
 * - RFC 9745 §2: `Deprecation: @<epoch seconds>`, a Structured Field Date, from when the sunset was announced;
 * - RFC 8594 §3: `Sunset: <IMF-fixdate>`; §3.1: `Link: <url>; rel="sunset"` when a migration page is configured;
 * - RFC 6749 §5.2: from the sunset on, the password grant answers unauthorized_client; with revokeGrants, a
 *   refresh of a grant that began with a password answers invalid_grant and the grant is revoked.
 * Every password-grant answer of a client with a sunset carries the headers once the client is authenticated,
 * errors included, and so does every refresh of a grant that began with a password.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PasswordGrantSunset } from '../../src/core/types.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

/** 2027-06-30T00:00:00Z and 2026-12-01T00:00:00Z. */
const JUNE_30_2027 = 1_814_313_600;
const DECEMBER_1_2026 = 1_796_083_200;
const DAY = 86_400;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Sets the seed client's sunset as `client update --password-grant-sunset` stores it. */
async function setSunset(target: TestServer, sunset: PasswordGrantSunset | null): Promise<void> {
  const updated = await target.services.store.updateClient(
    SEED.clientId,
    { policy: { passwordGrantSunset: sunset } },
    target.services.clock.now(),
  );
  expect(updated !== 'version_mismatch' && updated?.policy.passwordGrantSunset).toEqual(sunset);
}

const sunsetHeaders = (headers: Headers) => ({
  deprecation: headers.get('deprecation'),
  sunset: headers.get('sunset'),
  link: headers.get('link'),
});

const NO_HEADERS = { deprecation: null, sunset: null, link: null };

async function metric(target: TestServer, line: string): Promise<number> {
  const text = await (await fetch(`${target.adminUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.split(' ').pop());
}

describe('announcing a password-grant sunset (RFC 9745, RFC 8594)', () => {
  it('sends no Deprecation, Sunset or Link header to a client without a sunset', async () => {
    server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' });
    await seedSpecSample(server);
    const ok = await passwordGrant(server);
    expect(ok.status).toBe(200);
    expect(sunsetHeaders(ok.headers)).toEqual(NO_HEADERS);
    const refreshed = await refreshGrant(server, String(ok.json.refresh_token));
    expect(refreshed.status).toBe(200);
    expect(sunsetHeaders(refreshed.headers)).toEqual(NO_HEADERS);
  });

  it(
    'sends Deprecation as @epoch and Sunset as an IMF-fixdate on every password-grant answer, errors after client ' +
      'authentication included, and on refreshes of password grants',
    async () => {
      server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' });
      await seedSpecSample(server);
      await setSunset(server, { at: JUNE_30_2027, announcedAt: DECEMBER_1_2026, revokeGrants: false });
      const expected = { deprecation: `@${DECEMBER_1_2026}`, sunset: 'Wed, 30 Jun 2027 00:00:00 GMT', link: null };

      const ok = await passwordGrant(server);
      expect(ok.status).toBe(200);
      expect(sunsetHeaders(ok.headers)).toEqual(expected);

      const wrongPassword = await passwordGrant(server, { password: 'not the password' });
      expect(wrongPassword.status).toBe(400);
      expect(wrongPassword.json.error).toBe('invalid_grant');
      expect(sunsetHeaders(wrongPassword.headers)).toEqual(expected);

      const refreshed = await refreshGrant(server, String(ok.json.refresh_token));
      expect(refreshed.status).toBe(200);
      expect(sunsetHeaders(refreshed.headers)).toEqual(expected);

      // Not authenticated: nothing tells an unknown caller about the client.
      const wrongSecret = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password },
        { authorization: basic(SEED.clientId, 'wrong secret') },
      );
      expect(wrongSecret.status).toBe(401);
      expect(sunsetHeaders(wrongSecret.headers)).toEqual(NO_HEADERS);
    },
  );

  it('adds Link: <url>; rel="sunset" when OAUTHD_PASSWORD_GRANT_SUNSET_LINK is set', async () => {
    server = await startTestServer({
      OAUTHD_CLIENT_CACHE_MS: '0',
      OAUTHD_PASSWORD_GRANT_SUNSET_LINK: 'https://developers.example.com/migrate-off-password',
    });
    await seedSpecSample(server);
    const before = await passwordGrant(server);
    expect(sunsetHeaders(before.headers)).toEqual(NO_HEADERS);
    await setSunset(server, { at: JUNE_30_2027, announcedAt: DECEMBER_1_2026, revokeGrants: false });
    const after = await passwordGrant(server);
    expect(after.headers.get('link')).toBe('<https://developers.example.com/migrate-off-password>; rel="sunset"');
    expect(after.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
  });
});

describe('enforcing the sunset (RFC 6749 §5.2)', () => {
  it(
    'refuses the password grant from the sunset on with unauthorized_client naming what to use instead, with the ' +
      'headers, an audit event and a metric',
    async () => {
      const clock = testClock(JUNE_30_2027 - 60);
      server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' }, { clock });
      await seedSpecSample(server);
      await setSunset(server, { at: JUNE_30_2027, announcedAt: DECEMBER_1_2026, revokeGrants: false });
      expect((await passwordGrant(server)).status).toBe(200);

      clock.advance(60);
      const refused = await passwordGrant(server);
      expect(refused.status).toBe(400);
      expect(refused.json.error).toBe('unauthorized_client');
      expect(String(refused.json.error_description)).toMatch(/client_credentials/);
      expect(String(refused.json.error_description)).toMatch(/authorization code/);
      expect(sunsetHeaders(refused.headers)).toMatchObject({ deprecation: `@${DECEMBER_1_2026}` });
      expect(refused.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
      expect(server.logs()).toMatch(/"event":"client.password_grant_refused"/);
      expect(await metric(server, 'oauthd_password_grant_sunset_refusals_total{grant_type="password"}')).toBe(1);
    },
  );

  it('keeps refresh tokens issued before the sunset working after it, without revokeGrants', async () => {
    const clock = testClock(JUNE_30_2027 - 60);
    server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' }, { clock });
    await seedSpecSample(server);
    await setSunset(server, { at: JUNE_30_2027, announcedAt: DECEMBER_1_2026, revokeGrants: false });
    const issued = await passwordGrant(server);
    expect(issued.status).toBe(200);

    clock.advance(DAY);
    expect((await passwordGrant(server)).status).toBe(400);
    const refreshed = await refreshGrant(server, String(issued.json.refresh_token));
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('deprecation')).toBe(`@${DECEMBER_1_2026}`);
    expect((await userinfo(server, String(refreshed.json.access_token))).status).toBe(200);
  });

  it(
    'with revokeGrants, refuses a refresh of a password grant from the sunset on with invalid_grant and revokes ' +
      'the grant',
    async () => {
      const clock = testClock(JUNE_30_2027 - 60);
      server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' }, { clock });
      await seedSpecSample(server);
      await setSunset(server, { at: JUNE_30_2027, announcedAt: DECEMBER_1_2026, revokeGrants: true });
      const issued = await passwordGrant(server);
      expect(issued.status).toBe(200);
      const early = await refreshGrant(server, String(issued.json.refresh_token));
      expect(early.status).toBe(200); // before the sunset, refreshes work

      clock.advance(60);
      const refused = await refreshGrant(server, String(early.json.refresh_token));
      expect(refused.status).toBe(400);
      expect(refused.json.error).toBe('invalid_grant');
      expect(refused.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
      // The grant is revoked: its live access token stops working, and the refresh token stays refused.
      expect((await userinfo(server, String(early.json.access_token))).status).toBe(401);
      const again = await refreshGrant(server, String(early.json.refresh_token));
      expect(again.status).toBe(400);
      expect(again.json.error).toBe('invalid_grant');
      expect(again.headers.get('deprecation')).toBe(`@${DECEMBER_1_2026}`);
      expect(server.logs()).toMatch(/"via":"password_grant_sunset"/);
      expect(await metric(server, 'oauthd_password_grant_sunset_refusals_total{grant_type="refresh_token"}')).toBe(1);
    },
  );
});
