/**
 * Who may use the admin API (/admin/v1/ on the admin listener), over real HTTP: RFC 6750 §2.1 (the bearer token in
 * the Authorization header, never in the URL, RFC 9700 §2.5) and §3 / §3.1 (401 with a bare challenge without
 * credentials, invalid_token, insufficient_scope with the scope needed). oauthd:admin writes, oauthd:admin:read
 * reads; a token bound to a user counts only while that user is an admin (taking the flag revokes its
 * admin-scoped grants), a client's own token only while the client still holds the scope. The public listener
 * answers /admin/ and /console/ 404; the admin listener keeps /metrics, /healthz and /readyz unauthenticated.
 * The OpenAPI 3.1 document is valid and lists every operation.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEvents, clientToken, registerClient, tokenFor, userToken } from '../helpers/admin-api.js';
import { basic, postToken, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startTestServer();
  admin = await clientToken(server, 'oauthd:admin');
});

afterAll(async () => {
  await server?.stop();
});

const challenge = (result: { headers: Headers }) => result.headers.get('www-authenticate');

describe('without a usable token', () => {
  it('answers no credentials 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
    const result = await api(server, null, 'GET', '/clients');
    expect(result.status).toBe(401);
    expect(challenge(result)).toBe('Bearer realm="oauthd-admin"');
    expect(result.json.error).toBe('invalid_token');
    expect(result.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an unknown token 401 invalid_token, and a malformed Authorization header too', async () => {
    for (const token of ['not-a-token-we-issued', 'spaces are not b64token']) {
      const result = await api(server, token, 'GET', '/clients');
      expect(result.status, token).toBe(401);
      expect(challenge(result)).toMatch(/^Bearer realm="oauthd-admin", error="invalid_token"/);
      expect(result.json.error).toBe('invalid_token');
    }
  });

  it('answers a revoked token 401 invalid_token', async () => {
    const client = await registerClient(server, 'oauthd:admin');
    const token = await tokenFor(server, client, 'oauthd:admin');
    expect((await api(server, token, 'GET', '/clients')).status).toBe(200);
    await server.services.admin.deleteClient(client.id);
    const result = await api(server, token, 'GET', '/clients');
    expect(result.status).toBe(401);
    expect(result.json.error).toBe('invalid_token');
  });

  it('refuses a token in the URL with invalid_request, even a valid one (RFC 9700 §2.5)', async () => {
    const response = await fetch(`${server.adminUrl}/admin/v1/clients?access_token=${admin}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('does not read the body of an unauthenticated request: bad JSON without a token is still 401', async () => {
    const result = await api(server, null, 'POST', '/clients', { body: '{not json' });
    expect(result.status).toBe(401);
  });
});

describe('scopes', () => {
  it('answers a token without an admin scope 403 insufficient_scope naming oauthd:admin:read for a read', async () => {
    const token = await clientToken(server, 'read');
    const result = await api(server, token, 'GET', '/clients');
    expect(result.status).toBe(403);
    expect(result.json.error).toBe('insufficient_scope');
    expect(challenge(result)).toContain('error="insufficient_scope"');
    expect(challenge(result)).toContain('scope="oauthd:admin:read"');
  });

  it('lets oauthd:admin:read read and refuses it every change with scope="oauthd:admin"', async () => {
    const token = await clientToken(server, 'oauthd:admin:read');
    expect((await api(server, token, 'GET', '/clients')).status).toBe(200);
    expect((await api(server, token, 'GET', '/users')).status).toBe(200);
    const writes: [string, string, unknown][] = [
      ['POST', '/clients', { name: 'nope' }],
      ['POST', '/users', { username: 'nope', password: 'long-enough-password' }],
      ['DELETE', '/users/nobody/grants', undefined],
      ['POST', '/lockouts/clear', { username: 'nobody' }],
    ];
    for (const [method, path, body] of writes) {
      const result = await api(server, token, method, path, body === undefined ? {} : { body });
      expect(result.status, `${method} ${path}`).toBe(403);
      expect(challenge(result)).toContain('scope="oauthd:admin"');
    }
    expect((await api(server, admin, 'GET', '/users/nope')).status).toBe(404);
  });

  it('lets oauthd:admin both read and change', async () => {
    expect((await api(server, admin, 'GET', '/lockouts')).status).toBe(200);
    const created = await api(server, admin, 'POST', '/clients', { body: { name: 'by the admin scope' } });
    expect(created.status).toBe(201);
  });

  it("stops a client's token at once when the client loses the admin scope, before the token expires", async () => {
    const client = await registerClient(server, 'read oauthd:admin');
    const token = await tokenFor(server, client, 'oauthd:admin');
    expect((await api(server, token, 'GET', '/clients')).status).toBe(200);
    await server.services.admin.updateClient(client.id, { scopes: 'read' });
    const result = await api(server, token, 'GET', '/clients');
    expect(result.status).toBe(403);
    expect(result.json.error).toBe('insufficient_scope');
  });
});

describe('tokens bound to a user', () => {
  it("lets an admin user's token in, and names the user as the actor", async () => {
    const { username, token, status } = await userToken(server, { isAdmin: true });
    expect(status).toBe(200);
    const created = await api(server, token, 'POST', '/users', {
      body: { username: `made-by-${username}`, password: 'long-enough-password' },
    });
    expect(created.status).toBe(201);
    await server.services.audit.flush();
    const events = await api(server, admin, 'GET', `/audit-events?event=user.created&username=made-by-${username}`);
    expect(events.json.items[0].detail.actor).toBe(`api:user:${username}`);
  });

  it("stops an admin user's token at once when the client it came through loses the admin scope", async () => {
    const { token, clientId } = await userToken(server, { isAdmin: true });
    expect((await api(server, token, 'GET', '/clients')).status).toBe(200);
    await server.services.admin.updateClient(clientId, { scopes: 'read' });
    const result = await api(server, token, 'GET', '/clients');
    expect([result.status, result.json.error]).toEqual([403, 'insufficient_scope']);
  });

  it("refuses a non-admin user's token 403, whatever scope it asked for (no admin scope reaches it)", async () => {
    const result = await userToken(server, { isAdmin: false, scope: 'read oauthd:admin' });
    // The server grants less than asked (RFC 6749 §3.3): the admin scope is dropped, or the request refused.
    if (result.status === 200) {
      expect(String(result.json.scope).split(' ')).not.toContain('oauthd:admin');
      const refused = await api(server, result.token, 'GET', '/clients');
      expect(refused.status).toBe(403);
      expect(refused.json.error).toBe('insufficient_scope');
    } else {
      expect(result.json.error).toBe('invalid_scope');
    }
  });

  it("revokes a demoted admin's admin-scoped grants: token and refresh token refused, other grants kept", async () => {
    const username = 'demoted-admin';
    const password = 'a-long-enough-password';
    await server.services.admin.createUser(username, password, { isAdmin: true });
    const client = await server.services.admin.createClient({
      name: 'demotion-app',
      grantTypes: ['password', 'refresh_token'],
      scopes: 'read oauthd:admin',
    });
    const auth = { authorization: basic(client.client.clientId, client.clientSecret!) };
    const login = (scope: string) => postToken(server, { grant_type: 'password', username, password, scope }, auth);
    const refresh = (token: string) => postToken(server, { grant_type: 'refresh_token', refresh_token: token }, auth);
    const tokens = async (scope: string) =>
      (await login(scope)).json as { access_token: string; refresh_token: string };
    const [adminGrant, plainGrant] = [await tokens('oauthd:admin'), await tokens('read')];
    expect((await api(server, adminGrant.access_token, 'GET', '/clients')).status).toBe(200);
    const user = await api(server, admin, 'GET', `/users/${username}`);
    const demoted = await api(server, admin, 'PATCH', `/users/${username}`, {
      body: { is_admin: false },
      headers: { 'if-match': user.headers.get('etag')! },
    });
    expect(demoted.status).toBe(200);
    // A refresh keeps the grant's scope (RFC 6749 §6): the admin-scoped grant is revoked with the flag.
    const result = await api(server, adminGrant.access_token, 'GET', '/clients');
    expect(result.status).toBe(401);
    expect(result.json.error).toBe('invalid_token');
    const refused = await refresh(adminGrant.refresh_token);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toBe('invalid_grant');
    expect((await refresh(plainGrant.refresh_token)).status).toBe(200);
    const revoked = await auditEvents(server, admin, `event=grant.revoked&username=${username}`);
    expect(revoked.map((e) => e.detail.via)).toEqual(['admin_revoked']);
    expect(revoked[0].detail.actor).toMatch(/^api:client:/);
  });
});

describe('the listeners', () => {
  it('answers /admin/… and /console/ on the public listener 404 like any unknown path, token or not', async () => {
    for (const path of ['/admin/v1/clients', '/admin/v1/openapi.json', '/console/', '/admin/']) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint.' });
    }
  });

  it('keeps /metrics, /healthz and /readyz unauthenticated on the admin listener', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      expect((await fetch(`${server.adminUrl}${path}`)).status, path).toBe(200);
    }
  });
});

describe('methods', () => {
  it('answers a method a path does not serve 405 with Allow, and HEAD like GET without a body', async () => {
    const result = await api(server, admin, 'PUT', '/clients');
    expect(result.status).toBe(405);
    expect(result.headers.get('allow')).toBe('GET, POST, HEAD');
    expect(result.json.error).toBe('invalid_request');
    const head = await fetch(`${server.adminUrl}/admin/v1/lockouts`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${server.adminUrl}/admin/v1/lockouts`, { method: 'HEAD' })).status).toBe(401);
    expect((await api(server, admin, 'GET', '/no-such-resource')).status).toBe(404);
  });
});

describe('the OpenAPI document', () => {
  it('is served without a token at /admin/v1/openapi.json, valid OpenAPI 3.1, every operation listed', async () => {
    const response = await fetch(`${server.adminUrl}/admin/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, any>;
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /admin/v1/clients',
        'POST /admin/v1/clients',
        'GET /admin/v1/clients/{client_id}',
        'PATCH /admin/v1/clients/{client_id}',
        'DELETE /admin/v1/clients/{client_id}',
        'POST /admin/v1/clients/{client_id}/secret',
        'GET /admin/v1/users',
        'POST /admin/v1/users',
        'GET /admin/v1/users/{username}',
        'PATCH /admin/v1/users/{username}',
        'DELETE /admin/v1/users/{username}',
        'PUT /admin/v1/users/{username}/password',
        'GET /admin/v1/users/{username}/grants',
        'DELETE /admin/v1/users/{username}/grants',
        'DELETE /admin/v1/users/{username}/grants/{grant_id}',
        'GET /admin/v1/lockouts',
        'POST /admin/v1/lockouts/clear',
        'GET /admin/v1/audit-events',
        'GET /admin/v1/activity',
      ].sort(),
    );
  });
});
