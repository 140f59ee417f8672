/**
 * The admin API's clients (/admin/v1/clients) over real HTTP: create (201, Location, the strong ETag of RFC 9110
 * §8.8.3, a generated secret in that answer only), show, list with search and cursor paging, PATCH with If-Match
 * (RFC 9110 §13.1.1: 412 on a lost update; RFC 6585 §3: 428 without), rotate the secret, delete (If-Match
 * honoured). Bad input is a field-level 400, never a 500; every change is audited with the acting admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEvents, registerClient, tokenFor } from '../helpers/admin-api.js';
import { basic, postToken, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: string;
let adminClientId: string;

beforeAll(async () => {
  server = await startTestServer();
  const client = await registerClient(server, 'oauthd:admin');
  adminClientId = client.id;
  admin = await tokenFor(server, client, 'oauthd:admin');
});

afterAll(async () => {
  await server?.stop();
});

const create = (body: Record<string, unknown>) => api(server, admin, 'POST', '/clients', { body });
const patch = (id: string, body: unknown, etag?: string) =>
  api(server, admin, 'PATCH', `/clients/${encodeURIComponent(id)}`, {
    body,
    ...(etag !== undefined ? { headers: { 'if-match': etag } } : {}),
  });

describe('creating and reading', () => {
  it('creates a client: 201, Location, ETag, the generated secret once, and the secret works', async () => {
    const result = await create({ name: 'Billing', scopes: ['read'], grant_types: ['client_credentials'] });
    expect(result.status).toBe(201);
    const id = result.json.client_id as string;
    expect(result.headers.get('location')).toBe(`/admin/v1/clients/${encodeURIComponent(id)}`);
    expect(result.headers.get('etag')).toMatch(/^"\d+"$/);
    expect(result.json).toMatchObject({
      name: 'Billing',
      client_type: 'confidential',
      scopes: ['read'],
      grant_types: ['client_credentials'],
      access_token_ttl: null,
      redirect_uris: [],
      pkce: 'S256',
    });
    expect(result.json.client_secret).toMatch(/^\S{20,}$/);
    const token = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic(id, result.json.client_secret) },
    );
    expect(token.status).toBe(200);

    const shown = await api(server, admin, 'GET', `/clients/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.json.client_secret).toBeUndefined();
    expect(shown.headers.get('etag')).toBe(result.headers.get('etag'));
    expect(JSON.stringify(shown.json)).not.toContain(result.json.client_secret);
  });

  it('keeps a chosen secret and never shows it; a public client has none', async () => {
    const chosen = await create({ name: 'Kept', client_id: 'kept-secret-client', client_secret: 'a-chosen-secret-42' });
    expect(chosen.status).toBe(201);
    expect(chosen.json.client_secret).toBeUndefined();
    const spa = await create({
      name: 'SPA',
      client_type: 'public',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://spa.example.com/cb'],
    });
    expect(spa.status).toBe(201);
    expect(spa.json).toMatchObject({ client_type: 'public', redirect_uris: ['https://spa.example.com/cb'] });
    expect(spa.json.client_secret).toBeUndefined();
  });

  it('answers a taken client_id 409 already_exists, and an unknown client 404 not_found', async () => {
    const again = await create({ name: 'Again', client_id: 'kept-secret-client' });
    expect(again.status).toBe(409);
    expect(again.json.error).toBe('already_exists');
    const missing = await api(server, admin, 'GET', '/clients/no-such-client');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
  });

  it('does not show, change or delete the console client', async () => {
    expect((await api(server, admin, 'GET', '/clients/oauthd-console')).status).toBe(404);
    expect((await api(server, admin, 'DELETE', '/clients/oauthd-console')).status).toBe(404);
  });
});

describe('listing', () => {
  it('pages through more than one page by client_id, with search, and the last page has no cursor', async () => {
    for (let i = 0; i < 5; i++)
      expect((await create({ name: `Paged ${i}`, client_id: `paged-${i}` })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?search=paged-&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const result = await api(server, admin, 'GET', `/clients${query}`);
      expect(result.status).toBe(200);
      seen.push(...result.json.items.map((c: { client_id: string }) => c.client_id));
      cursor = result.json.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
  });

  it("refuses a bad cursor, another listing's cursor, a bad limit and an unknown parameter with fields", async () => {
    const users = await api(server, admin, 'GET', '/users?limit=1');
    const cases: [string, string][] = [
      ['cursor=not*base64', 'cursor'],
      [`cursor=${Buffer.from('{"k":"clients"}').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor'],
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=100000', 'limit'],
      ['colour=blue', 'colour'],
      ['limit=1&limit=2', 'limit'],
    ];
    if (users.json.next_cursor) cases.push([`cursor=${users.json.next_cursor}`, 'cursor']);
    for (const [query, field] of cases) {
      const result = await api(server, admin, 'GET', `/clients?${query}`);
      expect(result.status, query).toBe(400);
      expect(result.json.error).toBe('invalid_request');
      expect(
        result.json.fields.map((f: { field: string }) => f.field),
        query,
      ).toContain(field);
    }
  });
});

describe('changing', () => {
  it('changes only the fields given, with the ETag of the copy, and answers the new ETag', async () => {
    const created = await create({ name: 'Policy', client_id: 'policy-client', scopes: ['read', 'write'] });
    const etag = created.headers.get('etag')!;
    const result = await patch(
      'policy-client',
      {
        name: 'Policy two',
        access_token_ttl: 600,
        allowed_networks: ['10.0.0.0/8'],
        rate_limit: 100,
        default_scopes: ['read'],
        password_grant_sunset: '2030-01-01',
        pkce: 'S256 plain',
      },
      etag,
    );
    expect(result.status, JSON.stringify(result.json)).toBe(200);
    expect(result.json).toMatchObject({
      name: 'Policy two',
      scopes: ['read', 'write'],
      default_scopes: ['read'],
      access_token_ttl: 600,
      allowed_networks: ['10.0.0.0/8'],
      rate_limit: 100,
      password_grant_sunset: '2030-01-01',
      pkce: 'S256 plain',
    });
    expect(result.headers.get('etag')).not.toBe(etag);
    // null goes back to the server's setting.
    const back = await patch(
      'policy-client',
      { access_token_ttl: null, allowed_networks: null, password_grant_sunset: null },
      result.headers.get('etag')!,
    );
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({ access_token_ttl: null, allowed_networks: null, password_grant_sunset: null });
  });

  it('refuses a PATCH without If-Match 428 and a stale one 412 (a lost update), changing nothing', async () => {
    const created = await create({ name: 'Contended', client_id: 'contended' });
    const stale = created.headers.get('etag')!;
    const missing = await patch('contended', { name: 'no condition' });
    expect(missing.status).toBe(428);
    expect(missing.json.error).toBe('precondition_required');
    expect((await patch('contended', { name: 'first' }, stale)).status).toBe(200);
    const second = await patch('contended', { name: 'second, from the stale copy' }, stale);
    expect(second.status).toBe(412);
    expect(second.json.error).toBe('precondition_failed');
    expect((await api(server, admin, 'GET', '/clients/contended')).json.name).toBe('first');
    // Weak tags never match (RFC 9110 §13.1.1 strong comparison); * matches whatever is current.
    expect((await patch('contended', { name: 'weak' }, `W/${stale}`)).status).toBe(412);
    expect((await patch('contended', { name: 'any' }, '*')).status).toBe(200);
    expect((await patch('contended', { name: 'x' }, 'not-an-etag')).status).toBe(400);
  });

  it('answers bad input with invalid_request naming each field, never a 500', async () => {
    const etag = (await api(server, admin, 'GET', '/clients/contended')).headers.get('etag')!;
    const cases: [unknown, string[]][] = [
      [{ colour: 'blue' }, ['colour']],
      [{ name: 42, access_token_ttl: 'long' }, ['name', 'access_token_ttl']],
      [{ access_token_ttl: 0 }, ['access_token_ttl']],
      [{ redirect_uris: ['http://example.com/cb'] }, ['redirect_uris']],
      [{ scopes: ['no-such-scope'] }, ['scopes']],
      [{ grant_types: ['implicit'] }, ['grant_types']],
      [{ pkce: 'plain' }, ['pkce']],
      [{ redirect_uris: [1] }, ['redirect_uris[0]']],
      [[1, 2], ['body']],
    ];
    for (const [body, fields] of cases) {
      const result = await patch('contended', body, etag);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.json.error).toBe('invalid_request');
      expect(result.json.fields.map((f: { field: string }) => f.field).sort(), JSON.stringify(body)).toEqual(
        fields.sort(),
      );
    }
  });

  it('refuses malformed JSON, bytes that are not UTF-8 and other content types with invalid_request', async () => {
    const send = (body: string | Uint8Array, type: string) =>
      fetch(`${server.adminUrl}/admin/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': type },
        body,
      });
    for (const [body, type] of [
      ['{"name": ', 'application/json'],
      [new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), 'application/json'],
      ['name=x', 'application/x-www-form-urlencoded'],
      ['name', 'text/plain'],
    ] as const) {
      const response = await send(body, type);
      expect(response.status, type).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    }
    const missing = await create({});
    expect(missing.status).toBe(400);
    expect(missing.json.fields).toEqual([{ field: 'name', problem: 'is required' }]);
  });
});

describe('rotating and deleting', () => {
  it('rotates the secret: the new one works, the old one stops at once', async () => {
    const created = await create({ name: 'Rotated', grant_types: ['client_credentials'] });
    const id = created.json.client_id as string;
    const rotated = await api(server, admin, 'POST', `/clients/${id}/secret`);
    expect(rotated.status).toBe(200);
    const cc = (secret: string) =>
      postToken(server, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });
    expect((await cc(rotated.json.client_secret)).status).toBe(200);
    expect((await cc(created.json.client_secret)).status).toBe(401);
    // The rotation changed the client: the ETag from before it no longer matches.
    const stale = await api(server, admin, 'POST', `/clients/${id}/secret`, {
      headers: { 'if-match': created.headers.get('etag')! },
    });
    expect(stale.status).toBe(412);
  });

  it('deletes with If-Match honoured: a stale one 412, then 204, then 404', async () => {
    const created = await create({ name: 'Doomed', client_id: 'doomed' });
    const etag = created.headers.get('etag')!;
    expect((await patch('doomed', { name: 'Doomed, renamed' }, etag)).status).toBe(200);
    const stale = await api(server, admin, 'DELETE', '/clients/doomed', { headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    const deleted = await api(server, admin, 'DELETE', '/clients/doomed');
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeNull();
    expect((await api(server, admin, 'GET', '/clients/doomed')).status).toBe(404);
    expect((await api(server, admin, 'DELETE', '/clients/doomed')).status).toBe(404);
  });

  it('audits every change with the acting admin as actor, and never a secret', async () => {
    const events = await auditEvents(server, admin, 'client_id=doomed');
    expect(events.map((e) => e.event)).toEqual(['client.deleted', 'client.updated', 'client.created']);
    for (const event of events) expect(event.detail.actor).toBe(`api:client:${adminClientId}`);
    const rotatedEvents = await auditEvents(server, admin, 'event=client.secret_rotated');
    expect(rotatedEvents.length).toBeGreaterThan(0);
    expect(JSON.stringify(rotatedEvents)).not.toMatch(/client_secret"/);
  });
});
