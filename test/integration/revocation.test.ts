/**
 * Token revocation over real HTTP against a real store.
 * RFC 7009 §2.1 (request, client authentication, token_type_hint, invalidating the grant), §2.2 (200 for
 * unknown and already revoked tokens), §2.2.1 (errors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  basic,
  passwordGrant,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await seedSpecSample(server);
  await server.services.admin.createClient({ name: 'other', clientId: 'other-client', clientSecret: 'other-secret' });
  await server.services.admin.createClient({ name: 'public', clientId: 'public-app', isPublic: true });
});

afterAll(async () => {
  await server.stop();
});

async function revoke(
  fields: Record<string, string>,
  authorization: string | null = basic(SEED.clientId, SEED.clientSecret),
) {
  const response = await fetch(`${server.oauthUrl}/revoke_token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

async function login() {
  const { json } = await passwordGrant(server);
  return { access: json.access_token as string, refresh: json.refresh_token as string };
}

describe('revoking (RFC 7009 §2.1)', () => {
  it('revokes a refresh token and with it every token of its grant', async () => {
    const pair = await login();
    const result = await revoke({ token: pair.refresh, token_type_hint: 'refresh_token' });
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect((await refreshGrant(server, pair.refresh)).status).toBe(400);
    expect((await userinfo(server, pair.access)).status).toBe(401);
  });

  it('revokes an access token and also kills the refresh token issued with it', async () => {
    const pair = await login();
    expect((await revoke({ token: pair.access, token_type_hint: 'access_token' })).status).toBe(200);
    expect((await userinfo(server, pair.access)).status).toBe(401);
    expect((await refreshGrant(server, pair.refresh)).json.error).toBe('invalid_grant');
  });

  it('finds the token whatever the hint says, and ignores an unknown hint', async () => {
    const a = await login();
    expect((await revoke({ token: a.access, token_type_hint: 'refresh_token' })).status).toBe(200);
    expect((await userinfo(server, a.access)).status).toBe(401);
    const b = await login();
    expect((await revoke({ token: b.refresh, token_type_hint: 'id_token' })).status).toBe(200);
    expect((await refreshGrant(server, b.refresh)).status).toBe(400);
  });

  it("revokes only the grant named, not the user's other grants", async () => {
    const kept = await login();
    const gone = await login();
    await revoke({ token: gone.refresh });
    expect((await userinfo(server, kept.access)).status).toBe(200);
  });

  it('accepts client credentials in the body and lets a public client revoke its own token', async () => {
    const pair = await login();
    expect(
      (await revoke({ token: pair.refresh, client_id: SEED.clientId, client_secret: SEED.clientSecret }, null)).status,
    ).toBe(200);
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: SEED.username,
        password: SEED.password,
        client_id: 'public-app',
      }),
    });
    const publicPair = (await response.json()) as { access_token: string };
    expect((await revoke({ token: publicPair.access_token, client_id: 'public-app' }, null)).status).toBe(200);
    expect((await userinfo(server, publicPair.access_token)).status).toBe(401);
  });
});

describe('nothing to revoke (RFC 7009 §2.2)', () => {
  it('answers 200 for an unknown token', async () => {
    const result = await revoke({ token: 'no-such-token' });
    expect(result.status).toBe(200);
    expect(result.text).toBe('');
  });

  it('answers 200 for an already revoked token and changes nothing else', async () => {
    const pair = await login();
    await revoke({ token: pair.refresh });
    expect((await revoke({ token: pair.refresh })).status).toBe(200);
    expect((await revoke({ token: pair.access })).status).toBe(200);
  });

  it('answers 200 for a rotated access token and leaves the live pair of its grant alone', async () => {
    const first = await login();
    const second = await refreshGrant(server, first.refresh);
    expect((await revoke({ token: first.access })).status).toBe(200);
    expect((await userinfo(server, second.json.access_token as string)).status).toBe(200);
  });
});

describe('refusals (RFC 7009 §2.1, §2.2.1)', () => {
  it('refuses to let another client revoke a token, and the token keeps working', async () => {
    const pair = await login();
    const result = await revoke({ token: pair.access }, basic('other-client', 'other-secret'));
    expect(result.status).toBe(400);
    expect(result.json).toEqual({
      error: 'unauthorized_client',
      error_description: 'The token was not issued to this client.',
    });
    expect((await revoke({ token: pair.refresh }, basic('other-client', 'other-secret'))).status).toBe(400);
    expect((await userinfo(server, pair.access)).status).toBe(200);
    expect((await refreshGrant(server, pair.refresh)).status).toBe(200);
  });

  it('answers bad client credentials with 401 invalid_client and revokes nothing', async () => {
    const pair = await login();
    const result = await revoke({ token: pair.access }, basic(SEED.clientId, 'wrong'));
    expect(result.status).toBe(401);
    expect(result.json?.error).toBe('invalid_client');
    expect(result.headers.get('www-authenticate')).toBe('Basic realm="oauthd"');
    expect((await revoke({ token: pair.access }, null)).status).toBe(401);
    expect((await userinfo(server, pair.access)).status).toBe(200);
  });

  it('answers a missing token parameter with invalid_request', async () => {
    const result = await revoke({});
    expect(result.status).toBe(400);
    expect(result.json).toEqual({ error: 'invalid_request', error_description: 'Missing token parameter.' });
  });

  it('refuses a token in the URL query and GET', async () => {
    const pair = await login();
    const inQuery = await fetch(`${server.oauthUrl}/revoke_token/?token=${pair.access}`, {
      method: 'POST',
      headers: { authorization: basic(SEED.clientId, SEED.clientSecret) },
    });
    expect(inQuery.status).toBe(400);
    const get = await fetch(`${server.oauthUrl}/revoke_token/`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
