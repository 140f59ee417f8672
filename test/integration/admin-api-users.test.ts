/**
 * The admin API's users, their grants and lockouts over real HTTP: create (201, Location, strong ETag), list with
 * paging, show, PATCH with If-Match (RFC 9110 §13.1.1, RFC 6585 §3) to rename, disable (their tokens stop at
 * once: RFC 6750 §3.1 invalid_token at /o/userinfo/) and enable, set a password (revoking the tokens by default),
 * delete; a user's grants listed, one revoked (RFC 7009's effect: its tokens stop), all revoked; brute-force
 * lockouts listed and cleared by username or IP, after which the login works again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEvents, clientToken } from '../helpers/admin-api.js';
import { within } from '../helpers/cli.js';
import {
  SEED,
  basic,
  postToken,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
let admin: string;
const PASSWORD = 'a-long-enough-password';

beforeAll(async () => {
  server = await startTestServer({
    OAUTHD_TRUST_PROXY: '127.0.0.1',
    OAUTHD_MAX_FAILURES_PER_USER_IP: '3',
    OAUTHD_LOCKOUT_SECONDS: '600',
  });
  await seedSpecSample(server);
  admin = await clientToken(server, 'oauthd:admin');
});

afterAll(async () => {
  await server?.stop();
});

const createUser = (username: string, extra: Record<string, unknown> = {}) =>
  api(server, admin, 'POST', '/users', { body: { username, password: PASSWORD, ...extra } });

const path = (username: string) => `/users/${encodeURIComponent(username)}`;

function login(username: string, password = PASSWORD, ip = '192.0.2.10') {
  return postToken(
    server,
    { grant_type: 'password', username, password },
    { authorization: basic(SEED.clientId, SEED.clientSecret), 'x-forwarded-for': ip },
  );
}

describe('users', () => {
  it('creates a user: 201, Location, ETag, no password anywhere, and it can log in', async () => {
    const result = await createUser('alice', { is_admin: false });
    expect(result.status).toBe(201);
    expect(result.headers.get('location')).toBe('/admin/v1/users/alice');
    expect(result.headers.get('etag')).toBe(`"${result.json.version}"`);
    expect(result.json).toMatchObject({ username: 'alice', is_active: true, is_admin: false });
    expect(JSON.stringify(result.json)).not.toContain(PASSWORD);
    expect((await login('alice')).status).toBe(200);
    const again = await createUser('alice');
    expect(again.status).toBe(409);
    expect(again.json.error).toBe('already_exists');
  });

  it('finds a user whose name needs percent-encoding in the path (a slash, a space, non-ASCII)', async () => {
    const name = 'ops/jane smith-é';
    const created = await createUser(name);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/admin/v1${path(name)}`);
    const shown = await api(server, admin, 'GET', path(name));
    expect(shown.status).toBe(200);
    expect(shown.json.username).toBe(name);
    expect((await api(server, admin, 'DELETE', path(name))).status).toBe(204);
  });

  it('refuses a password the policy refuses, naming the field', async () => {
    const result = await api(server, admin, 'POST', '/users', { body: { username: 'shorty', password: 'short' } });
    expect(result.status).toBe(400);
    expect(result.json.fields).toEqual([{ field: 'password', problem: expect.stringContaining('at least') }]);
    expect(JSON.stringify(result.json)).not.toContain('"short"');
  });

  it('shows a user with its live grants and ETag; 404 for nobody', async () => {
    const shown = await api(server, admin, 'GET', '/users/alice');
    expect(shown.status).toBe(200);
    expect(shown.json.live_grants).toBe(1);
    expect(shown.headers.get('etag')).toBe(`"${shown.json.version}"`);
    expect((await api(server, admin, 'GET', '/users/nobody-at-all')).status).toBe(404);
  });

  it('pages through the users by username', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) expect((await createUser(name)).status).toBe(201);
    const first = await api(server, admin, 'GET', '/users?search=page-&limit=2');
    expect(first.json.items.map((u: { username: string }) => u.username)).toEqual(['page-a', 'page-b']);
    const second = await api(server, admin, 'GET', `/users?search=page-&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.items.map((u: { username: string }) => u.username)).toEqual(['page-c']);
    expect(second.json.next_cursor).toBeNull();
  });

  it('disables a user with If-Match: its token stops at /o/userinfo/ at once; enabled, it logs in again', async () => {
    const token = (await login('alice')).json.access_token as string;
    expect((await userinfo(server, token)).status).toBe(200);
    const etag = (await api(server, admin, 'GET', '/users/alice')).headers.get('etag')!;
    const disabled = await api(server, admin, 'PATCH', '/users/alice', {
      body: { is_active: false },
      headers: { 'if-match': etag },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.json.is_active).toBe(false);
    expect((await userinfo(server, token)).status).toBe(401);
    expect((await login('alice')).status).toBe(400);
    const stale = await api(server, admin, 'PATCH', '/users/alice', {
      body: { is_active: true },
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    const enabled = await api(server, admin, 'PATCH', '/users/alice', {
      body: { is_active: true },
      headers: { 'if-match': disabled.headers.get('etag')! },
    });
    expect(enabled.status).toBe(200);
    expect((await login('alice')).status).toBe(200);
  });

  it('needs If-Match to PATCH (428), refuses unknown fields, and renames to a new path', async () => {
    const missing = await api(server, admin, 'PATCH', '/users/page-a', { body: { username: 'page-z' } });
    expect(missing.status).toBe(428);
    const unknown = await api(server, admin, 'PATCH', '/users/page-a', {
      body: { password: 'not here' },
      headers: { 'if-match': '*' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.fields).toEqual([{ field: 'password', problem: 'unknown field' }]);
    const renamed = await api(server, admin, 'PATCH', '/users/page-a', {
      body: { username: 'page-z' },
      headers: { 'if-match': '*' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.headers.get('content-location')).toBe('/admin/v1/users/page-z');
    const taken = await api(server, admin, 'PATCH', '/users/page-z', {
      body: { username: 'page-b' },
      headers: { 'if-match': '*' },
    });
    expect(taken.status).toBe(409);
  });

  it('keeps the last active admin one: 409 to disable, demote or delete it, until another exists', async () => {
    expect((await createUser('last-admin', { is_admin: true })).status).toBe(201);
    const any = { headers: { 'if-match': '*' } };
    for (const body of [{ is_active: false }, { is_admin: false }]) {
      const refused = await api(server, admin, 'PATCH', path('last-admin'), { body, ...any });
      expect([refused.status, refused.json.error], JSON.stringify(body)).toEqual([409, 'conflict']);
      expect(refused.json.error_description).toMatch(/last active admin/);
    }
    expect((await api(server, admin, 'DELETE', path('last-admin'))).status).toBe(409);
    expect((await createUser('next-admin', { is_admin: true })).status).toBe(201);
    expect((await api(server, admin, 'PATCH', path('last-admin'), { body: { is_admin: false }, ...any })).status).toBe(
      200,
    );
    expect((await api(server, admin, 'DELETE', path('next-admin'))).status).toBe(409);
  });

  it('sets a password: the old one stops, tokens are revoked unless revoke_tokens is false', async () => {
    const token = (await login('page-b')).json.access_token as string;
    const kept = await api(server, admin, 'PUT', '/users/page-b/password', {
      body: { password: 'second-long-password', revoke_tokens: false },
    });
    expect(kept.status).toBe(204);
    expect((await userinfo(server, token)).status).toBe(200);
    expect((await login('page-b')).status).toBe(400);
    const revoked = await api(server, admin, 'PUT', '/users/page-b/password', { body: { password: PASSWORD } });
    expect(revoked.status).toBe(204);
    expect((await userinfo(server, token)).status).toBe(401);
    expect((await login('page-b')).status).toBe(200);
  });

  it('deletes a user (a stale If-Match is 412): its tokens stop, then 404', async () => {
    const token = (await login('page-c')).json.access_token as string;
    const etag = (await api(server, admin, 'GET', '/users/page-c')).headers.get('etag')!;
    await api(server, admin, 'PUT', '/users/page-c/password', { body: { password: PASSWORD, revoke_tokens: false } });
    expect((await api(server, admin, 'DELETE', '/users/page-c', { headers: { 'if-match': etag } })).status).toBe(412);
    expect((await api(server, admin, 'DELETE', '/users/page-c')).status).toBe(204);
    expect((await userinfo(server, token)).status).toBe(401);
    expect((await api(server, admin, 'GET', '/users/page-c')).status).toBe(404);
  });
});

describe("a user's grants", () => {
  it('lists the live grants, revokes one (its token stops, the other goes on), then all', async () => {
    expect((await createUser('grantee')).status).toBe(201);
    const first = (await login('grantee')).json.access_token as string;
    const second = (await login('grantee')).json.access_token as string;
    const listed = await api(server, admin, 'GET', '/users/grantee/grants');
    expect(listed.status).toBe(200);
    expect(listed.json.items).toHaveLength(2);
    expect(listed.json.items[0]).toMatchObject({ client_id: SEED.clientId, scope: expect.any(String) });
    const [oldest] = listed.json.items as { grant_id: string }[];
    const revoked = await api(server, admin, 'DELETE', `/users/grantee/grants/${oldest!.grant_id}`);
    expect(revoked.status).toBe(204);
    expect((await userinfo(server, first)).status).toBe(401);
    expect((await userinfo(server, second)).status).toBe(200);
    expect((await api(server, admin, 'DELETE', `/users/grantee/grants/${oldest!.grant_id}`)).status).toBe(404);

    const all = await api(server, admin, 'DELETE', '/users/grantee/grants');
    expect(all.status).toBe(200);
    expect(all.json.revoked_grants).toHaveLength(1);
    expect((await userinfo(server, second)).status).toBe(401);
    expect((await api(server, admin, 'GET', '/users/grantee/grants')).json.items).toEqual([]);
  });

  it('audits the revocations with the acting admin', async () => {
    const events = await auditEvents(server, admin, 'event=grant.revoked&username=grantee');
    expect(events).toHaveLength(2);
    for (const e of events)
      expect(e.detail).toMatchObject({ via: 'admin', actor: expect.stringMatching(/^api:client:/) });
  });
});

describe('lockouts', () => {
  it('lists a lockout the login throttle started and clears it by username: the login works again', async () => {
    expect((await createUser('locked-out')).status).toBe(201);
    for (let i = 0; i < 3; i++) await login('locked-out', 'wrong-password', '198.51.100.66');
    expect((await login('locked-out', PASSWORD, '198.51.100.66')).status).not.toBe(200);
    const listed = await api(server, admin, 'GET', '/lockouts');
    expect(listed.status).toBe(200);
    expect(listed.json.items).toContainEqual(
      expect.objectContaining({ subject: 'user_ip', username: 'locked-out', ip: '198.51.100.66' }),
    );
    const cleared = await api(server, admin, 'POST', '/lockouts/clear', { body: { username: 'locked-out' } });
    expect(cleared.status).toBe(200);
    expect(cleared.json.items.length).toBeGreaterThan(0);
    // The running server forgets the counters within a second (throttle/lockout-sync.ts).
    await within(3000, async () => (await login('locked-out', PASSWORD, '198.51.100.66')).status === 200);
    expect((await api(server, admin, 'GET', '/lockouts')).json.items).toEqual([]);
  });

  it('clears by IP, and refuses neither or both, or an address that is no IP, with fields', async () => {
    const byIp = await api(server, admin, 'POST', '/lockouts/clear', { body: { ip: '2001:db8::1' } });
    expect(byIp.status).toBe(200);
    expect(byIp.json.items).toEqual([]);
    for (const body of [{}, { username: 'x', ip: '192.0.2.1' }, { ip: 'not-an-ip' }]) {
      const result = await api(server, admin, 'POST', '/lockouts/clear', { body });
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.json.fields.length).toBeGreaterThan(0);
    }
  });
});
