/**
 * The refresh token grant over real HTTP against a real SQLite file.
 * RFC 6749 §6 (refresh, scope narrowing, client binding), §10.4, RFC 9700 §4.14.2 (rotation and reuse
 * detection: revoke the whole grant family).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let server: TestServer;
const clock = testClock();

beforeAll(async () => {
  server = await startTestServer(
    { OAUTHD_SCOPES: 'read write payouts', OAUTHD_DEFAULT_SCOPES: 'read write' },
    { clock },
  );
  await seedSpecSample(server);
  await server.services.admin.createClient({ name: 'other', clientId: 'other-client', clientSecret: 'other-secret' });
  await server.services.admin.createClient({
    name: 'narrow',
    clientId: 'narrow',
    clientSecret: 'narrow-secret',
    scopes: 'read write payouts',
  });
  await server.services.admin.createClient({
    name: 'password only',
    clientId: 'password-only',
    clientSecret: 'po-secret',
    grantTypes: ['password'],
  });
});

afterAll(async () => {
  await server.stop();
});

async function login(): Promise<{ access: string; refresh: string }> {
  const { status, json } = await passwordGrant(server);
  expect(status).toBe(200);
  return { access: json.access_token as string, refresh: json.refresh_token as string };
}

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'The refresh token is invalid, expired, revoked or was already used.',
};

describe('rotation (RFC 6749 §6)', () => {
  it('returns a new pair in the spec shape and kills the old refresh token and the old access token', async () => {
    const first = await login();
    const { status, json } = await refreshGrant(server, first.refresh);
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(json).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });
    expect(json.refresh_token).not.toBe(first.refresh);
    expect(json.access_token).not.toBe(first.access);

    expect((await userinfo(server, first.access)).status).toBe(401);
    expect((await userinfo(server, json.access_token as string)).status).toBe(200);
  });

  it('keeps refreshing along a chain, each token used once', async () => {
    let { refresh } = await login();
    for (let i = 0; i < 5; i++) {
      const { status, json } = await refreshGrant(server, refresh);
      expect(status).toBe(200);
      refresh = json.refresh_token as string;
    }
    expect((await refreshGrant(server, refresh)).status).toBe(200);
  });

  it('does not expire a refresh token by time (the spec: it lasts until used)', async () => {
    const { refresh } = await login();
    clock.advance(400 * 24 * 3600);
    try {
      expect((await refreshGrant(server, refresh)).status).toBe(200);
    } finally {
      clock.advance(-400 * 24 * 3600);
    }
  });

  it('accepts client credentials in the body, as the spec table lists them', async () => {
    const { refresh } = await login();
    const { status } = await postToken(server, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: SEED.clientId,
      client_secret: SEED.clientSecret,
    });
    expect(status).toBe(200);
  });
});

describe('scope on refresh (RFC 6749 §6)', () => {
  const loginNarrow = async () => {
    const { json } = await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'read write payouts' },
      { authorization: basic('narrow', 'narrow-secret') },
    );
    return json.refresh_token as string;
  };
  const refreshNarrow = (refresh: string, scope?: string) =>
    postToken(
      server,
      { grant_type: 'refresh_token', refresh_token: refresh, ...(scope ? { scope } : {}) },
      { authorization: basic('narrow', 'narrow-secret') },
    );

  it('narrows the access token but keeps the refresh token at the original scope', async () => {
    const refresh = await loginNarrow();
    const narrowed = await refreshNarrow(refresh, 'read');
    expect(narrowed.status).toBe(200);
    expect(narrowed.json.scope).toBe('read');
    const info = await userinfo(server, narrowed.json.access_token as string);
    expect(info.json.scope).toBe('read');
    // The new refresh token still carries the original scope (§6: identical to the one presented).
    const again = await refreshNarrow(narrowed.json.refresh_token as string);
    expect(again.json.scope).toBe('read write payouts');
  });

  it('refuses to widen the scope with invalid_scope and leaves the refresh token usable', async () => {
    const { refresh } = await login(); // seed client: read write
    const widened = await refreshGrant(server, refresh, { scope: 'read write payouts' });
    expect(widened.status).toBe(400);
    expect(widened.json.error).toBe('invalid_scope');
    expect((await refreshGrant(server, refresh)).status).toBe(200);
  });
});

describe('binding and rejection (RFC 6749 §6, §10.4, §5.2)', () => {
  it(
    'rejects a refresh token issued to another client with ' + 'invalid_grant and leaves it usable by its owner',
    async () => {
      const { refresh } = await login();
      const stolen = await postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: refresh },
        { authorization: basic('other-client', 'other-secret') },
      );
      expect(stolen.status).toBe(400);
      expect(stolen.json).toEqual(INVALID_GRANT);
      expect((await refreshGrant(server, refresh)).status).toBe(200);
    },
  );

  it('rejects an unknown refresh token with invalid_grant', async () => {
    const { status, json } = await refreshGrant(server, 'not-a-refresh-token');
    expect(status).toBe(400);
    expect(json).toEqual(INVALID_GRANT);
  });

  it('rejects an access token presented as a refresh token', async () => {
    const { access } = await login();
    expect((await refreshGrant(server, access)).json).toEqual(INVALID_GRANT);
  });

  it('answers unauthorized_client for a client not allowed the refresh_token grant', async () => {
    const { status, json } = await postToken(
      server,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic('password-only', 'po-secret') },
    );
    expect(status).toBe(400);
    expect(json.error).toBe('unauthorized_client');
  });

  it('refuses to refresh for a disabled user', async () => {
    await server.services.admin.createUser('to-disable', 'pw-to-disable');
    const { json } = await postToken(
      server,
      { grant_type: 'password', username: 'to-disable', password: 'pw-to-disable' },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    await server.services.admin.setUserActive('to-disable', false);
    expect((await refreshGrant(server, json.refresh_token as string)).json).toEqual(INVALID_GRANT);
    expect((await userinfo(server, json.access_token as string)).status).toBe(401);
  });
});

describe('reuse detection (RFC 9700 §4.14.2)', () => {
  it('answers a second use of a refresh token with invalid_grant and revokes the whole family', async () => {
    const first = await login();
    const second = await refreshGrant(server, first.refresh);
    expect(second.status).toBe(200);
    const third = await refreshGrant(server, second.json.refresh_token as string);
    expect(third.status).toBe(200);
    const newest = { access: third.json.access_token as string, refresh: third.json.refresh_token as string };
    expect((await userinfo(server, newest.access)).status).toBe(200);

    // An attacker (or a confused client) replays the first refresh token.
    const replay = await refreshGrant(server, first.refresh);
    expect(replay.status).toBe(400);
    expect(replay.json).toEqual(INVALID_GRANT);

    // Every token of the family is dead, including the newest pair.
    const info = await userinfo(server, newest.access);
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await refreshGrant(server, newest.refresh)).json).toEqual(INVALID_GRANT);
  });

  it("leaves the user's other grants alone when one family is revoked", async () => {
    const bystander = await login();
    const victim = await login();
    await refreshGrant(server, victim.refresh);
    await refreshGrant(server, victim.refresh); // reuse → victim family revoked
    expect((await userinfo(server, bystander.access)).status).toBe(200);
    expect((await refreshGrant(server, bystander.refresh)).status).toBe(200);
  });
});

describe('concurrency: single use under a race', () => {
  it('lets exactly one of 20 parallel refreshes with one token succeed, over HTTP, and never answers 500', async () => {
    const { refresh } = await login();
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshGrant(server, refresh)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 400)) expect(r.json).toEqual(INVALID_GRANT);
    // The losers presented a used token: reuse. The family is revoked, the winner's pair included
    // (RFC 9700 §4.14.2: the server cannot tell a racing attacker from a racing client).
    const winner = results.find((r) => r.status === 200)!;
    expect((await refreshGrant(server, winner.json.refresh_token as string)).status).toBe(400);
  });
});
