/**
 * Per-client policy over real HTTP (docs/clients.md, "Per-client policy"): each field, set through the admin
 * module the CLI uses, is honoured by the running server on its client's next request (OAUTHD_CLIENT_CACHE_MS=0
 * here; the bound itself is tested in cli-client-policy.test.ts with two processes).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClientPolicyInput } from '../../src/core/admin/client-policy.js';
import { tokenKey } from '../../src/core/tokens.js';
import { runCli } from '../helpers/cli.js';
import { postFormFrom } from '../helpers/from-address.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
const clock = testClock();
const DEFAULTS: ClientPolicyInput = {
  accessTokenTtl: 'default',
  refreshTokenTtl: 'default',
  refreshIdleTtl: 'default',
  refreshGrace: 'default',
  allowedNetworks: 'any',
  rateLimit: 'default',
};

beforeAll(async () => {
  server = await startTestServer(
    { OAUTHD_CLIENT_CACHE_MS: '0', OAUTHD_ACCESS_TOKEN_TTL: '3600', OAUTHD_SCOPES: 'read write introspection' },
    { clock },
  );
  await seedSpecSample(server);
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await setPolicy(DEFAULTS);
});

const setPolicy = (policy: ClientPolicyInput) => server.services.admin.updateClient(SEED.clientId, { policy });

async function login(): Promise<Record<string, unknown>> {
  const answer = await passwordGrant(server);
  expect(answer.status).toBe(200);
  return answer.json;
}

const refreshExpiresAt = async (refreshToken: string) =>
  (await server.services.store.findRefreshToken(tokenKey(refreshToken)))?.expiresAt;

describe('lifetimes', () => {
  it("gives the client's own access-token lifetime on the password and refresh grants", async () => {
    expect((await login()).expires_in).toBe(3600);
    await setPolicy({ accessTokenTtl: '120' });
    const first = await login();
    expect(first.expires_in).toBe(120);
    const refreshed = await refreshGrant(server, first.refresh_token as string);
    expect(refreshed.json.expires_in).toBe(120);
  });

  it("gives the client's own access-token lifetime on client_credentials too", async () => {
    const grantTypes = ['password', 'refresh_token', 'client_credentials'];
    await server.services.admin.updateClient(SEED.clientId, { grantTypes, policy: { accessTokenTtl: '90' } });
    try {
      const machine = await postToken(
        server,
        { grant_type: 'client_credentials' },
        { authorization: basic(SEED.clientId, SEED.clientSecret) },
      );
      expect(machine.status).toBe(200);
      expect(machine.json.expires_in).toBe(90);
      const record = await server.services.store.findAccessToken(tokenKey(machine.json.access_token as string));
      expect(record && record.expiresAt - record.issuedAt).toBe(90);
    } finally {
      await server.services.admin.updateClient(SEED.clientId, { grantTypes: ['password', 'refresh_token'] });
    }
  });

  it("expires each refresh token after the client's idle lifetime", async () => {
    await setPolicy({ refreshIdleTtl: '60' });
    const first = await login();
    expect(await refreshExpiresAt(first.refresh_token as string)).toBe(clock.now() + 60);
    clock.advance(59);
    const second = await refreshGrant(server, first.refresh_token as string);
    expect(second.status).toBe(200);
    clock.advance(61);
    const late = await refreshGrant(server, second.json.refresh_token as string);
    expect(late.status).toBe(400);
    expect(late.json.error).toBe('invalid_grant');
  });

  it('refuses a refresh past the absolute lifetime counted from the first issue, and caps each new token', async () => {
    await setPolicy({ refreshTokenTtl: '100', refreshIdleTtl: '1000' });
    const start = clock.now();
    const first = await login();
    expect(await refreshExpiresAt(first.refresh_token as string)).toBe(start + 100);
    clock.advance(60);
    const second = await refreshGrant(server, first.refresh_token as string);
    expect(second.status).toBe(200);
    // Its own lifetime would end at now + 1000; the grant's ends sooner.
    expect(await refreshExpiresAt(second.json.refresh_token as string)).toBe(start + 100);
    await setPolicy({ refreshTokenTtl: '90' }); // shortened after issue: still refused at once past it
    clock.advance(35);
    const late = await refreshGrant(server, second.json.refresh_token as string);
    expect(late.status).toBe(400);
    expect(late.json).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('the refresh grace window', () => {
  it("replays the same pair within the client's own window, and treats it as reuse without one", async () => {
    await setPolicy({ refreshGrace: '10' });
    const first = await login();
    const a = await refreshGrant(server, first.refresh_token as string);
    const b = await refreshGrant(server, first.refresh_token as string);
    expect(a.status).toBe(200);
    expect(b.json).toEqual(a.json);

    await setPolicy({ refreshGrace: 'default' }); // the server's: 0, off
    const other = await login();
    expect((await refreshGrant(server, other.refresh_token as string)).status).toBe(200);
    const again = await refreshGrant(server, other.refresh_token as string);
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('invalid_grant');
  });

  it("keeps the client's window through `oauthd cleanup` when the server's own is off", async () => {
    // The server's clock 30 s behind the CLI's: the refresh below was used 30 s before the cleanup runs.
    clock.advance(Math.floor(Date.now() / 1000) - 30 - clock.now());
    await setPolicy({ refreshGrace: '45' });
    const first = await login();
    const a = await refreshGrant(server, first.refresh_token as string);
    expect(a.status).toBe(200);
    const cleanup = await runCli(server.config.store.databaseUrl, ['cleanup']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    // Within the client's 45 s (the server's clock has not moved): the same pair again, not reuse.
    const b = await refreshGrant(server, first.refresh_token as string);
    expect(b.status).toBe(200);
    expect(b.json).toEqual(a.json);
  });
});

/** POST a form to an OAuth endpoint on a fresh connection from `from` (127.0.0.1 or 127.0.0.2). */
const postFrom = (
  path: string,
  from: string,
  form: Record<string, string>,
  authorization = basic(SEED.clientId, SEED.clientSecret),
) => postFormFrom(`${server.oauthUrl}${path}`, from, form, authorization);

const PASSWORD_FORM = { grant_type: 'password', username: SEED.username, password: SEED.password };

describe('allowed networks', () => {
  it('answers 401 invalid_client from elsewhere, like any failed client authentication, and audits it', async () => {
    await setPolicy({ allowedNetworks: '127.0.0.2/32, 2001:db8::/32' });
    const inside = await postFrom('/token/', '127.0.0.2', PASSWORD_FORM);
    expect(inside.status).toBe(200);

    const outside = await postFrom('/token/', '127.0.0.1', PASSWORD_FORM);
    expect(outside.status).toBe(401);
    expect(outside.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    expect(server.logs()).toContain('"event":"client.network_refused"');

    // Revocation and introspection authenticate the client too (RFC 7009 §2.1, RFC 7662 §2.1).
    const token = inside.json.access_token as string;
    expect((await postFrom('/revoke_token/', '127.0.0.1', { token })).status).toBe(401);
    expect((await postFrom('/introspect/', '127.0.0.1', { token })).status).toBe(401);
    expect((await postFrom('/introspect/', '127.0.0.2', { token })).status).toBe(200);

    await setPolicy({ allowedNetworks: 'any' });
    expect((await postFrom('/token/', '127.0.0.1', PASSWORD_FORM)).status).toBe(200);
  });

  it('counts refusals from elsewhere like wrong secrets: throttled past the per-client limit', async () => {
    const limited = await startTestServer({ OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '5', OAUTHD_CLIENT_CACHE_MS: '0' });
    try {
      await seedSpecSample(limited);
      await limited.services.admin.updateClient(SEED.clientId, { policy: { allowedNetworks: '127.0.0.2/32' } });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const answer = await postFormFrom(
          `${limited.oauthUrl}/token/`,
          '127.0.0.1',
          PASSWORD_FORM,
          basic(SEED.clientId, SEED.clientSecret),
        );
        statuses.push(answer.status);
        if (answer.status === 429) expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      expect(limited.logs().split('"event":"client.network_refused"').length - 1).toBe(5);
    } finally {
      await limited.stop();
    }
  });

  it('holds a resource server to its networks when it introspects with a bearer token too', async () => {
    await server.services.admin.createClient({
      name: 'resource server',
      clientId: 'pinned-rs',
      clientSecret: 'pinned-rs-secret',
      grantTypes: ['client_credentials'],
      scopes: 'introspection',
      canIntrospect: true,
      policy: { allowedNetworks: '127.0.0.2/32' },
    });
    const rs = basic('pinned-rs', 'pinned-rs-secret');
    const issued = await postFrom(
      '/token/',
      '127.0.0.2',
      { grant_type: 'client_credentials', scope: 'introspection' },
      rs,
    );
    expect(issued.status).toBe(200);
    const bearer = `Bearer ${issued.json.access_token as string}`;
    const token = (await postFrom('/token/', '127.0.0.2', PASSWORD_FORM)).json.access_token as string;
    expect((await postFrom('/introspect/', '127.0.0.2', { token }, bearer)).json.active).toBe(true);
    const outside = await postFrom('/introspect/', '127.0.0.1', { token }, bearer);
    expect(outside.status).toBe(401);
    expect(outside.json.active).toBeUndefined();
  });
});

describe('the rate limit', () => {
  it('answers 429 with Retry-After beyond it, and counts no request with a wrong secret', async () => {
    await server.services.admin.createClient({ name: 'limited', clientId: 'limited', clientSecret: 'limited-secret' });
    await server.services.admin.updateClient('limited', { policy: { rateLimit: '3' } });
    const as = (secret: string) =>
      fetch(`${server.oauthUrl}/token/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('limited', secret),
        },
        body: new URLSearchParams(PASSWORD_FORM),
      });
    for (let i = 0; i < 5; i++) expect((await as('wrong')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await as('limited-secret')).status).toBe(200);
    const refused = await as('limited-secret');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ error: 'slow_down' });
    // Another client is not limited by it.
    expect((await passwordGrant(server)).status).toBe(200);
  });
});
