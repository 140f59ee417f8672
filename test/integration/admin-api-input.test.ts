/**
 * Hostile input at the admin API's edges over real HTTP, on SQLite and PostgreSQL alike (OAUTHD_TEST_STORE):
 * a version no column can hold, a NUL character (PostgreSQL refuses it in text), bytes that are no UTF-8 in a
 * path. Each is the API's own JSON answer (400 naming the field, 404 for a path that names nothing, 412 for a
 * version that matches nothing), never a 500 or the framework's default body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ApiResult, registerClient, tokenFor } from '../helpers/admin-api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: string;
let clientId: string;

beforeAll(async () => {
  server = await startTestServer();
  const client = await registerClient(server, 'oauthd:admin');
  clientId = client.id;
  admin = await tokenFor(server, client, 'oauthd:admin');
  await server.services.admin.createUser('nul-test-user', 'a-long-enough-password');
});

afterAll(async () => {
  await server?.stop();
});

/** The API's error body, and nothing of Fastify's default one (`statusCode`, `code`, `message`). */
function expectApiError(result: ApiResult, status: number, error: string) {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(result.json).toMatchObject({ error, error_description: expect.any(String) });
  expect(Object.keys(result.json).sort()).toEqual(
    ['error', 'error_description', ...(result.json.fields ? ['fields'] : [])].sort(),
  );
}

const fieldsOf = (result: ApiResult) => (result.json.fields as { field: string }[]).map((f) => f.field);

describe('If-Match with a version no column can hold', () => {
  const huge = ['"99999999999"', '"2147483648"', '"999999999999999"'];

  it('is a version that matches nothing: 412, nothing changed', async () => {
    for (const etag of huge) {
      const headers = { 'if-match': etag };
      const patched = await api(server, admin, 'PATCH', `/clients/${clientId}`, { body: { name: 'x' }, headers });
      expectApiError(patched, 412, 'precondition_failed');
      const user = await api(server, admin, 'PATCH', '/users/nul-test-user', { body: { is_admin: true }, headers });
      expectApiError(user, 412, 'precondition_failed');
      expectApiError(
        await api(server, admin, 'DELETE', '/users/nul-test-user', { headers }),
        412,
        'precondition_failed',
      );
      const rotated = await api(server, admin, 'POST', `/clients/${clientId}/secret`, { headers });
      expectApiError(rotated, 412, 'precondition_failed');
      expectApiError(
        await api(server, admin, 'DELETE', `/clients/${clientId}`, { headers }),
        412,
        'precondition_failed',
      );
    }
    expect((await api(server, admin, 'GET', '/users/nul-test-user')).json).toMatchObject({ version: 1 });
    expect((await api(server, admin, 'GET', `/clients/${clientId}`)).json).toMatchObject({ version: 1 });
  });

  it('still matches when listed with the current version', async () => {
    const headers = { 'if-match': '"99999999999", "1"' };
    const patched = await api(server, admin, 'PATCH', '/users/nul-test-user', { body: { is_active: true }, headers });
    expect(patched.status).toBe(200);
  });
});

describe('a NUL character', () => {
  it('in a query parameter is a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['/clients?search=%00', 'search'],
      ['/clients?search=a%00b', 'search'],
      ['/users?search=%00', 'search'],
      ['/audit-events?username=%00', 'username'],
      ['/audit-events?client_id=x%00', 'client_id'],
    ];
    for (const [path, field] of cases) {
      const result = await api(server, admin, 'GET', path);
      expectApiError(result, 400, 'invalid_request');
      expect(fieldsOf(result), path).toEqual([field]);
    }
  });

  it('in a cursor is a 400 naming the cursor', async () => {
    for (const [path, position] of [
      ['/clients', { k: 'clients', after: '\u0000' }],
      ['/users', { k: 'users', after: 'a\u0000' }],
    ] as const) {
      const cursor = Buffer.from(JSON.stringify(position)).toString('base64url');
      const result = await api(server, admin, 'GET', `${path}?cursor=${cursor}`);
      expectApiError(result, 400, 'invalid_request');
      expect(fieldsOf(result)).toEqual(['cursor']);
    }
  });

  it('in a path names nothing: 404', async () => {
    const paths: [string, string][] = [
      ['GET', '/clients/%00'],
      ['GET', '/clients/a%00b'],
      ['POST', '/clients/%00/secret'],
      ['DELETE', '/clients/%00'],
      ['GET', '/users/%00'],
      ['DELETE', '/users/%00'],
      ['GET', '/users/%00/grants'],
      ['DELETE', '/users/%00/grants'],
      ['DELETE', '/users/nul-test-user/grants/%00'],
    ];
    for (const [method, path] of paths) expectApiError(await api(server, admin, method, path), 404, 'not_found');
    const patched = await api(server, admin, 'PATCH', '/users/%00', { body: { is_active: true } });
    expect(patched.status).toBe(404);
  });

  it('in a body string is a 400 naming the field; nothing is created', async () => {
    const client = await api(server, admin, 'POST', '/clients', { body: { name: 'a\u0000b' } });
    expectApiError(client, 400, 'invalid_request');
    expect(fieldsOf(client)).toEqual(['name']);
    const user = await api(server, admin, 'POST', '/users', {
      body: { username: 'nul\u0000user', password: 'a-long-enough-password' },
    });
    expectApiError(user, 400, 'invalid_request');
    expect(fieldsOf(user)).toEqual(['username']);
    const redirect = await api(server, admin, 'PATCH', `/clients/${clientId}`, {
      body: { redirect_uris: ['https://app.example/cb\u0000'] },
      headers: { 'if-match': '*' },
    });
    expectApiError(redirect, 400, 'invalid_request');
    expect(fieldsOf(redirect)).toEqual(['redirect_uris[0]']);
    const cleared = await api(server, admin, 'POST', '/lockouts/clear', { body: { username: '\u0000' } });
    expectApiError(cleared, 400, 'invalid_request');
    expect((await api(server, admin, 'GET', '/users?search=nul')).json.items).toEqual([
      expect.objectContaining({ username: 'nul-test-user' }),
    ]);
  });
});

describe('paths the router decodes', () => {
  it('one that is no UTF-8 is the API’s own JSON 400, not the framework’s body', async () => {
    for (const path of ['/clients/%ff%fe', '/users/%c3%28', '/users/a%zz', '/users/x/grants/%ff']) {
      expectApiError(await api(server, admin, 'GET', path), 400, 'invalid_request');
    }
  });

  it('a bad percent-encoding in the query is no 500', async () => {
    const result = await api(server, admin, 'GET', '/clients?search=%ff%fe');
    expect(result.status).toBe(200);
  });

  it('the longest username and client id there can be are addressable, however encoded', async () => {
    const username = 'é'.repeat(150); // 900 characters percent-encoded
    expect(
      (await api(server, admin, 'POST', '/users', { body: { username, password: 'a-long-enough-password' } })).status,
    ).toBe(201);
    const shown = await api(server, admin, 'GET', `/users/${encodeURIComponent(username)}`);
    expect(shown.status).toBe(200);
    expect(shown.json.username).toBe(username);
    const id = '/'.repeat(100);
    expect((await api(server, admin, 'POST', '/clients', { body: { name: 'long', client_id: id } })).status).toBe(201);
    expect((await api(server, admin, 'GET', `/clients/${encodeURIComponent(id)}`)).json.client_id).toBe(id);
  });

  it('a path parameter longer than any id is the API’s JSON error, not the framework’s body', async () => {
    const result = await api(server, admin, 'GET', `/users/${'x'.repeat(5000)}`);
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(result.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(result.json.statusCode).toBeUndefined();
  });
});
