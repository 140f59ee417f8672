/**
 * Bearer token validation on the protected userinfo endpoint, over real HTTP.
 * RFC 6750 §2.1 (Authorization header), §2.3 and RFC 9700 §2.5 (no tokens in URLs), §3 and §3.1 (the
 * WWW-Authenticate challenge and its error codes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  passwordGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  userinfo,
  SEED,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
const clock = testClock();

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

async function accessToken(): Promise<string> {
  const { json } = await passwordGrant(server);
  return json.access_token as string;
}

describe('a valid access token', () => {
  it('returns the user, client and scope, with no-store', async () => {
    const token = await accessToken();
    const { status, json, headers } = await userinfo(server, token);
    expect(status).toBe(200);
    expect(json).toMatchObject({ username: SEED.username, client_id: SEED.clientId, scope: 'read write' });
    expect(typeof json.sub).toBe('string');
    expect((json.exp as number) - (json.iat as number)).toBe(3600);
    expect(headers.get('cache-control')).toBe('no-store');
  });

  it('accepts the scheme name in any case (RFC 7235 §2.1)', async () => {
    const token = await accessToken();
    const response = await fetch(`${server.oauthUrl}/userinfo/`, { headers: { authorization: `bearer ${token}` } });
    expect(response.status).toBe(200);
  });
});

describe('rejected tokens (RFC 6750 §3.1)', () => {
  it('answers a request without credentials with 401 and a bare Bearer challenge', async () => {
    const response = await fetch(`${server.oauthUrl}/userinfo/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
  });

  it('answers Basic credentials on a bearer resource with the bare challenge', async () => {
    const response = await fetch(`${server.oauthUrl}/userinfo/`, { headers: { authorization: 'Basic YTpi' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
  });

  it.each([
    ['an unknown token', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'The access token is invalid.'],
    ['a malformed token', 'not a token!', 'The access token is malformed.'],
    ['an empty token', '', 'The access token is malformed.'],
    ['an overlong token', 'a'.repeat(600), 'The access token is malformed.'],
  ])('answers %s with 401 invalid_token', async (_name, token, description) => {
    const response = await fetch(`${server.oauthUrl}/userinfo/`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="oauthd", error="invalid_token", error_description="${description}"`,
    );
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: description });
  });

  it('answers an expired token with 401 invalid_token once its hour is over', async () => {
    const token = await accessToken();
    clock.advance(3599);
    try {
      expect((await userinfo(server, token)).status).toBe(200);
      clock.advance(1);
      const { status, json, headers } = await userinfo(server, token);
      expect(status).toBe(401);
      expect(json).toEqual({ error: 'invalid_token', error_description: 'The access token expired.' });
      expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      clock.advance(-3600);
    }
  });

  it('answers a token of a disabled user with 401 invalid_token', async () => {
    await server.services.admin.createUser('soon-disabled', 'pw-soon-disabled');
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'soon-disabled',
        password: 'pw-soon-disabled',
        client_id: SEED.clientId,
        client_secret: SEED.clientSecret,
      }),
    });
    const token = ((await response.json()) as { access_token: string }).access_token;
    expect((await userinfo(server, token)).status).toBe(200);
    await server.services.admin.setUserActive('soon-disabled', false);
    expect((await userinfo(server, token)).status).toBe(401);
  });

  it('refuses a token in the query string with 400 invalid_request (RFC 9700 §2.5)', async () => {
    const token = await accessToken();
    const response = await fetch(`${server.oauthUrl}/userinfo/?access_token=${token}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('answers POST with 405 and Allow: GET', async () => {
    const response = await fetch(`${server.oauthUrl}/userinfo/`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
