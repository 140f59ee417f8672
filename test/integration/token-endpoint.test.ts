/**
 * The token endpoint over real HTTP against a real SQLite file.
 * RFC 6749 §2.3.1 (client authentication), §3.2 (token endpoint), §3.3 (scope), §4.3 (password grant),
 * §5.1 (success response), §5.2 (error response).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const INVALID_CREDENTIALS = { error: 'invalid_grant', error_description: 'Invalid credentials given.' };

let server: TestServer;
let generated: { clientId: string; clientSecret: string };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write payouts admin', OAUTHD_DEFAULT_SCOPES: 'read write' });
  await seedSpecSample(server);
  const { client, clientSecret } = await server.services.admin.createClient({
    name: 'generated',
    scopes: 'read write payouts',
  });
  generated = { clientId: client.clientId, clientSecret: clientSecret! };
  await server.services.admin.createClient({ name: 'public', clientId: 'public-app', isPublic: true });
  await server.services.admin.createClient({
    name: 'refresh only',
    clientId: 'refresh-only',
    clientSecret: 'refresh-only-secret',
    grantTypes: ['refresh_token'],
  });
  await server.services.admin.createUser('disabled-user', 'disabled-pass');
  await server.services.admin.setUserActive('disabled-user', false);
});

afterAll(async () => {
  await server.stop();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const seedBasic = () => ({ authorization: basic(SEED.clientId, SEED.clientSecret) });
const userFields = { grant_type: 'password', username: SEED.username, password: SEED.password };

describe('password grant success (RFC 6749 §4.3.3, §5.1)', () => {
  it('returns exactly the spec body, with no-store headers, for the spec sample client and user', async () => {
    const { status, headers, json } = await passwordGrant(server);
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(json).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });
    expect(json.access_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(json.refresh_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(json.access_token).not.toBe(json.refresh_token);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('pragma')).toBe('no-cache');
    expect(headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('accepts client credentials in the body instead of Basic', async () => {
    const { status, json } = await postToken(server, {
      ...userFields,
      client_id: SEED.clientId,
      client_secret: SEED.clientSecret,
    });
    expect(status).toBe(200);
    expect(json.token_type).toBe('Bearer');
  });

  it('accepts Basic and body credentials together when they name the same client and secret', async () => {
    const { status } = await postToken(
      server,
      { ...userFields, client_id: SEED.clientId, client_secret: SEED.clientSecret },
      seedBasic(),
    );
    expect(status).toBe(200);
  });

  it('accepts a JSON body, as the spec table says', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...seedBasic() },
      body: JSON.stringify(userFields),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });
  });

  it('serves the same endpoint without the trailing slash', async () => {
    const response = await fetch(`${server.oauthUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...seedBasic() },
      body: form(userFields),
    });
    expect(response.status).toBe(200);
  });

  it('decodes Basic credentials that were form-urlencoded as RFC 6749 §2.3.1 says', async () => {
    await server.services.admin.createClient({ name: 'odd', clientId: 'odd-id', clientSecret: 'p+s %w:d' });
    const credentials = `${encodeURIComponent('odd-id')}:${encodeURIComponent('p+s %w:d')}`;
    const encoded = `Basic ${Buffer.from(credentials).toString('base64')}`;
    expect((await postToken(server, userFields, { authorization: encoded })).status).toBe(200);
    // ...and the same secret sent raw, as curl -u does.
    expect((await postToken(server, userFields, { authorization: basic('odd-id', 'p+s %w:d') })).status).toBe(200);
  });

  it('lets a public client authenticate with client_id alone', async () => {
    const { status } = await postToken(server, { ...userFields, client_id: 'public-app' });
    expect(status).toBe(200);
  });

  it('works with a generated client secret', async () => {
    const { status } = await postToken(server, userFields, {
      authorization: basic(generated.clientId, generated.clientSecret),
    });
    expect(status).toBe(200);
  });
});

describe('scope (RFC 6749 §3.3)', () => {
  const withGenerated = (scope: string) =>
    postToken(server, { ...userFields, scope }, { authorization: basic(generated.clientId, generated.clientSecret) });

  it('grants the default scopes when none is requested', async () => {
    const { json } = await postToken(server, userFields, {
      authorization: basic(generated.clientId, generated.clientSecret),
    });
    expect(json.scope).toBe('read write');
  });

  it('grants a requested subset, in canonical order, folding repeats', async () => {
    expect((await withGenerated('payouts read')).json.scope).toBe('read payouts');
    expect((await withGenerated('read read')).json.scope).toBe('read');
  });

  it('refuses a known scope the client may not have with invalid_scope', async () => {
    const { status, json } = await withGenerated('read admin');
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_scope');
  });

  it('refuses an unknown scope with invalid_scope', async () => {
    expect((await withGenerated('delete')).json.error).toBe('invalid_scope');
  });

  it('treats scopes as case-sensitive', async () => {
    expect((await withGenerated('READ')).json.error).toBe('invalid_scope');
  });

  it('treats an empty scope parameter as omitted (RFC 6749 §3.2)', async () => {
    expect((await withGenerated('')).json.scope).toBe('read write');
  });
});

describe('password grant failures are indistinguishable (RFC 6749 §4.3.2, §5.2)', () => {
  it('answers a wrong password, an unknown user and a disabled user with the identical body', async () => {
    const bodies = await Promise.all([
      postToken(server, { ...userFields, password: 'wrong' }, seedBasic()),
      postToken(server, { ...userFields, username: 'nobody-here' }, seedBasic()),
      postToken(server, { ...userFields, username: 'disabled-user', password: 'disabled-pass' }, seedBasic()),
    ]);
    for (const { status, json } of bodies) {
      expect(status).toBe(400);
      expect(json).toEqual(INVALID_CREDENTIALS);
    }
  });

  it('spends about the same time on an unknown user as on a wrong password (dummy hash)', async () => {
    const time = async (fields: Record<string, string>) => {
      const start = performance.now();
      await postToken(server, fields, seedBasic());
      return performance.now() - start;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 15; i++) {
      wrong.push(await time({ ...userFields, password: 'wrong' }));
      unknown.push(await time({ ...userFields, username: 'nobody-here' }));
    }
    // Without the dummy verification an unknown user answers far faster than a wrong password; with it
    // both pay one argon2id verification. A loose bound: the machine is shared.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
  });

  it('does not treat usernames case-insensitively', async () => {
    const { json } = await postToken(server, { ...userFields, username: SEED.username.toUpperCase() }, seedBasic());
    expect(json).toEqual(INVALID_CREDENTIALS);
  });
});

describe('malformed requests (RFC 6749 §3.2, §5.2 invalid_request)', () => {
  it.each([
    [
      'missing grant_type',
      { username: SEED.username, password: SEED.password },
      'Request is missing grant_type parameter.',
    ],
    ['missing username', { grant_type: 'password', password: SEED.password }, 'Request is missing username parameter.'],
    ['missing password', { grant_type: 'password', username: SEED.username }, 'Request is missing password parameter.'],
    [
      'an empty password (treated as omitted)',
      { ...userFields, password: '' },
      'Request is missing password parameter.',
    ],
    ['missing refresh_token', { grant_type: 'refresh_token' }, 'Missing refresh token parameter.'],
  ])('rejects %s with invalid_request', async (_name, fields, description) => {
    const { status, json, headers } = await postToken(server, fields as Record<string, string>, seedBasic());
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', error_description: description });
    expect(headers.get('cache-control')).toBe('no-store');
  });

  it('rejects a repeated parameter with invalid_request', async () => {
    const { status, json } = await postToken(server, `${form(userFields)}&password=again`, seedBasic());
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', error_description: 'Duplicate password parameter.' });
  });

  it('rejects a repeated key in a JSON body with invalid_request', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...seedBasic() },
      body: `{"grant_type":"password","username":"${SEED.username}","username":"other","password":"x"}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Duplicate username parameter.',
    });
  });

  it('rejects broken percent-encoding with invalid_request instead of guessing', async () => {
    const { status, json } = await postToken(server, 'grant_type=password&username=a&password=100%', seedBasic());
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_request');
  });

  it.each([
    ['invalid JSON', '{"grant_type":'],
    ['a JSON array', '["grant_type","password"]'],
    ['a nested JSON object', '{"grant_type":{"x":"password"}}'],
    ['a JSON number value', '{"grant_type":"password","username":"a","password":12345}'],
  ])('rejects %s with invalid_request', async (_name, body) => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...seedBasic() },
      body,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('rejects an unsupported content type with an RFC-shaped invalid_request', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...seedBasic() },
      body: form(userFields),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Unsupported content type: send application/x-www-form-urlencoded or application/json.',
    });
  });

  it('rejects a multipart body with an RFC-shaped invalid_request', async () => {
    const body = new FormData();
    body.set('grant_type', 'password');
    const response = await fetch(`${server.oauthUrl}/token/`, { method: 'POST', body, headers: seedBasic() });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('answers an oversized body with 413 and an RFC-shaped body', async () => {
    const { status, json } = await postToken(server, `${form(userFields)}&pad=${'x'.repeat(20_000)}`, seedBasic());
    expect(status).toBe(413);
    expect(json).toEqual({ error: 'invalid_request', error_description: 'The request body is too large.' });
  });

  it('answers GET with 405, Allow: POST and an RFC-shaped body', async () => {
    const response = await fetch(`${server.oauthUrl}/token/?${form(userFields)}`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses credentials in the URL query even on POST (RFC 6749 §2.3.1)', async () => {
    const response = await fetch(`${server.oauthUrl}/token/?client_secret=${SEED.clientSecret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...seedBasic() },
      body: form(userFields),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('answers an empty POST with invalid_request', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, { method: 'POST', headers: seedBasic() });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Request is missing grant_type parameter.',
    });
  });
});

describe('grant type checks (RFC 6749 §5.2)', () => {
  it('answers an unknown grant_type with unsupported_grant_type', async () => {
    const { status, json } = await postToken(
      server,
      { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' },
      seedBasic(),
    );
    expect(status).toBe(400);
    expect(json.error).toBe('unsupported_grant_type');
  });

  it('answers a grant the client may not use with unauthorized_client', async () => {
    const { status, json } = await postToken(server, userFields, {
      authorization: basic('refresh-only', 'refresh-only-secret'),
    });
    expect(status).toBe(400);
    expect(json.error).toBe('unauthorized_client');
  });
});

describe('client authentication failures (RFC 6749 §2.3, §5.2 invalid_client)', () => {
  const expectInvalidClient = (r: { status: number; headers: Headers; json: Record<string, unknown> }) => {
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="oauthd"');
  };

  it('rejects a wrong secret in the Basic header with 401 and a Basic challenge', async () => {
    expectInvalidClient(await postToken(server, userFields, { authorization: basic(SEED.clientId, 'wrong') }));
  });

  it('rejects an unknown client with the same body as a wrong secret', async () => {
    expectInvalidClient(
      await postToken(server, userFields, { authorization: basic('no-such-client', SEED.clientSecret) }),
    );
  });

  it('rejects a wrong secret in the body with invalid_client', async () => {
    expectInvalidClient(await postToken(server, { ...userFields, client_id: SEED.clientId, client_secret: 'wrong' }));
  });

  it('rejects a confidential client that sends no secret', async () => {
    expectInvalidClient(await postToken(server, { ...userFields, client_id: SEED.clientId }));
  });

  it('rejects a request with no client identification', async () => {
    expectInvalidClient(await postToken(server, userFields));
  });

  it('rejects a Basic header that is not Base64 of id:secret', async () => {
    expectInvalidClient(await postToken(server, userFields, { authorization: 'Basic !!!notbase64' }));
    expectInvalidClient(
      await postToken(server, userFields, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }),
    );
  });

  it('rejects Basic and body credentials that name different clients with invalid_request', async () => {
    const { status, json } = await postToken(server, { ...userFields, client_id: 'public-app' }, seedBasic());
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_request');
  });

  it('rejects Basic and body credentials with different secrets with invalid_request', async () => {
    const { status, json } = await postToken(
      server,
      { ...userFields, client_id: SEED.clientId, client_secret: 'other' },
      seedBasic(),
    );
    expect(status).toBe(400);
    expect(json.error).toBe('invalid_request');
  });

  it('never echoes the presented secret in an error body', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, 'my-wrong-secret-123'),
      },
      body: form({ ...userFields, password: 'my-wrong-password-456' }),
    });
    const text = await response.text();
    expect(text).not.toContain('my-wrong-secret-123');
    expect(text).not.toContain('my-wrong-password-456');
  });
});
