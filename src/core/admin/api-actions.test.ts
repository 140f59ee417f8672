/**
 * The admin module's actions for the admin API and the console, on a real (in-memory SQLite) store: errors
 * with their code and field, keyset pages, If-Match versions, updateUser's audit events, one grant revoked,
 * the audit trail paged, the dashboard's series, the clients still on the password grant, and bootstrap.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../crypto/argon2-hasher.js';
import { openStore } from '../../store/store.js';
import { ADMIN_SCOPES } from '../admin-scopes.js';
import { CONSOLE_CLIENT_ID } from '../console-client.js';
import { clockOf, type Store } from '../ports.js';
import { tokenKey } from '../tokens.js';
import { createAdmin } from './index.js';

const NOW = 1_800_000_000;
const fast = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
let store: Store;
let now: number;
let events: { event: string; fields: Record<string, unknown> }[];

const admin = (actor = 'test') =>
  createAdmin({
    store,
    passwordHasher: fast,
    clock: clockOf(() => now * 1000),
    knownScopes: ['read', 'write', ...ADMIN_SCOPES],
    defaultScopes: ['read'],
    events: { emit: (event, fields) => events.push({ event, fields: fields as Record<string, unknown> }) },
    actor,
  });

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  now = NOW;
  events = [];
});

const names = () => events.map((e) => e.event);

describe('errors say why and which field', () => {
  it('not_found, exists, invalid with the field the admin API names', async () => {
    const a = admin();
    await expect(a.showClient('nope')).rejects.toMatchObject({ code: 'not_found' });
    await expect(a.showUser('nobody')).rejects.toMatchObject({ code: 'not_found' });
    await a.createUser('alice', 'alice-password');
    await expect(a.createUser('alice', 'alice-password')).rejects.toMatchObject({ code: 'exists', field: 'username' });
    await expect(a.createUser('bob', 'short')).rejects.toMatchObject({ code: 'invalid', field: 'password' });
    await expect(a.createClient({ name: 'x', scopes: 'nope' })).rejects.toMatchObject({ field: 'scopes' });
    await expect(a.createClient({ name: 'x', grantTypes: ['implicit'] })).rejects.toMatchObject({
      field: 'grant_types',
    });
    await expect(
      a.createClient({ name: 'x', grantTypes: ['authorization_code'], policy: { redirectUris: ['ftp://x'] } }),
    ).rejects.toMatchObject({ field: 'redirect_uris' });
    await expect(a.createClient({ name: 'x', policy: { accessTokenTtl: '0' } })).rejects.toMatchObject({
      field: 'access_token_ttl',
    });
  });

  it('reserves the console client id and hides a row of that id from show, update, rotate and delete', async () => {
    const a = admin();
    await expect(a.createClient({ name: 'c', clientId: CONSOLE_CLIENT_ID })).rejects.toMatchObject({
      code: 'invalid',
      field: 'client_id',
    });
    for (const act of [
      () => a.showClient(CONSOLE_CLIENT_ID),
      () => a.updateClient(CONSOLE_CLIENT_ID, { name: 'mine' }),
      () => a.rotateClientSecret(CONSOLE_CLIENT_ID),
      () => a.deleteClient(CONSOLE_CLIENT_ID),
    ]) {
      await expect(act()).rejects.toMatchObject({ code: 'not_found' });
    }
  });
});

describe('pages', () => {
  it('pages clients and users by id with a next cursor only when there is more', async () => {
    const a = admin();
    for (const id of ['c1', 'c2', 'c3']) await a.createClient({ name: id, clientId: id });
    const first = await a.listClientsPage({ limit: 2 });
    expect(first.items.map((c) => c.clientId)).toEqual(['c1', 'c2']);
    expect(first.next).toBe('c2');
    const last = await a.listClientsPage({ limit: 2, after: first.next! });
    expect(last).toMatchObject({ items: [expect.objectContaining({ clientId: 'c3' })], next: null });
    expect((await a.listClientsPage({ limit: 10, search: 'C2' })).items.map((c) => c.clientId)).toEqual(['c2']);
    await a.createUser('ann', 'ann-password');
    await a.createUser('ben', 'ben-password');
    expect(await a.listUsersPage({ limit: 1 })).toMatchObject({ next: 'ann' });
    await expect(a.listUsersPage({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
  });
});

describe('If-Match versions', () => {
  it('updates and deletes a client only at the version given', async () => {
    const a = admin();
    const { client } = await a.createClient({ name: 'app', clientId: 'app' });
    const stale = client.version!;
    const updated = await a.updateClient('app', { name: 'App' }, { ifVersion: stale });
    expect(updated.version).toBeGreaterThan(stale);
    await expect(a.updateClient('app', { name: 'Again' }, { ifVersion: stale })).rejects.toMatchObject({
      code: 'version_mismatch',
    });
    await expect(a.deleteClient('app', { ifVersion: stale })).rejects.toMatchObject({ code: 'version_mismatch' });
    await a.deleteClient('app', { ifVersion: updated.version });
    expect(await store.findClient('app')).toBeNull();
  });

  it('updates and deletes a user only at the version given', async () => {
    const a = admin();
    await a.createUser('keeper', 'keeper-password', { isAdmin: true });
    const user = await a.createUser('carol', 'carol-password');
    await expect(a.updateUser('carol', { isAdmin: true }, { ifVersion: user.version + 1 })).rejects.toMatchObject({
      code: 'version_mismatch',
    });
    const admin1 = await a.updateUser('carol', { isAdmin: true }, { ifVersion: user.version });
    expect(admin1.isAdmin).toBe(true);
    await expect(a.deleteUser('carol', { ifVersion: user.version })).rejects.toMatchObject({
      code: 'version_mismatch',
    });
    await a.deleteUser('carol', { ifVersion: admin1.version });
  });
});

describe('the last active admin', () => {
  it('cannot be disabled, made an ordinary user or deleted, until another admin is active', async () => {
    const a = admin();
    await a.createUser('only', 'only-password', { isAdmin: true });
    await a.createUser('dormant', 'dormant-password', { isAdmin: true });
    await a.updateUser('dormant', { isActive: false });
    events = [];
    for (const attempt of [
      () => a.updateUser('only', { isActive: false }),
      () => a.updateUser('only', { isAdmin: false }),
      () => a.deleteUser('only'),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'forbidden', message: /last active admin/ });
    }
    expect(events).toEqual([]);
    expect(await a.showUser('only')).toMatchObject({ user: { isAdmin: true, isActive: true } });
    // Renaming it, or any change to an ordinary user, is not refused.
    await a.updateUser('only', { username: 'sole' });
    await a.updateUser('dormant', { isActive: true });
    await a.updateUser('sole', { isAdmin: false });
    await expect(a.deleteUser('dormant')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('updateUser', () => {
  it('writes one event per field that changed, in one change, and none for what was already so', async () => {
    const a = admin('api:user:root');
    const user = await a.createUser('dave', 'dave-password');
    events = [];
    const changed = await a.updateUser('dave', { username: 'david', isActive: false, isAdmin: true });
    expect(changed).toMatchObject({ username: 'david', isActive: false, isAdmin: true, version: user.version + 1 });
    expect(events).toEqual([
      {
        event: 'user.renamed',
        fields: { user_id: user.id, username: 'david', previous_username: 'dave', actor: 'api:user:root' },
      },
      {
        event: 'user.disabled',
        fields: {
          user_id: user.id,
          username: 'david',
          tokens_revoked: true,
          sign_in_sessions_ended: true,
          actor: 'api:user:root',
        },
      },
      { event: 'user.admin_granted', fields: { user_id: user.id, username: 'david', actor: 'api:user:root' } },
    ]);
    events = [];
    await a.updateUser('david', { isActive: false, isAdmin: true });
    expect(events).toEqual([]);
    await a.updateUser('david', { isActive: true, isAdmin: false });
    expect(names()).toEqual(['user.enabled', 'user.admin_revoked']);
    await expect(a.updateUser('david', {})).rejects.toMatchObject({ code: 'invalid' });
  });

  it('refuses a taken name with exists, and the CLI paths (rename, disable) go through it', async () => {
    const a = admin();
    await a.createUser('erin', 'erin-password');
    await a.createUser('frank', 'frank-password');
    await expect(a.renameUser('erin', 'frank')).rejects.toMatchObject({ code: 'exists', field: 'username' });
    events = [];
    await a.renameUser('erin', 'erin2');
    await a.setUserActive('erin2', false);
    await a.setUserActive('erin2', true);
    expect(names()).toEqual(['user.renamed', 'user.disabled', 'user.enabled']);
  });

  it('records is_admin on user.created', async () => {
    await admin().createUser('gus', 'gus-password', { isAdmin: true });
    expect(events[0]).toMatchObject({ event: 'user.created', fields: { username: 'gus', is_admin: true } });
  });
});

describe('revokeUserGrant', () => {
  it("revokes one live grant of the user, and only the user's", async () => {
    const a = admin();
    await a.createClient({ name: 'app', clientId: 'app' });
    const hal = await a.createUser('hal', 'hal-password');
    const ida = await a.createUser('ida', 'ida-password');
    const issue = async (id: string, userId: number) => {
      await store.issueTokens({
        grant: { id, clientId: 'app', userId, scope: ['read'], createdAt: NOW },
        access: { hash: tokenKey(`${id}-access`), expiresAt: NOW + 3600, issuedAt: NOW, scope: ['read'] },
        refresh: null,
      });
    };
    await issue('g-hal', hal.id);
    await issue('g-ida', ida.id);
    await expect(a.revokeUserGrant('hal', 'g-ida')).rejects.toMatchObject({ code: 'not_found' });
    events = [];
    expect((await a.revokeUserGrant('hal', 'g-hal')).grantId).toBe('g-hal');
    expect(events).toEqual([
      expect.objectContaining({
        event: 'grant.revoked',
        fields: expect.objectContaining({ grant_id: 'g-hal', client_id: 'app', username: 'hal', via: 'admin' }),
      }),
    ]);
    expect(await store.listUserGrants(hal.id, NOW)).toEqual([]);
    expect(await store.listUserGrants(ida.id, NOW)).toHaveLength(1);
    await expect(a.revokeUserGrant('hal', 'g-hal')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('the audit trail and the dashboard', () => {
  const record = (at: number, event: string) =>
    store.recordAuditEvents([
      { at, event, clientId: null, userId: null, username: null, grantId: null, ip: null, detail: '{}' },
    ]);

  it('pages events newest first with a cursor, and refuses a bad cursor, event or window', async () => {
    for (let i = 0; i < 5; i++) await record(NOW - i, 'login.failed');
    const a = admin();
    const first = await a.auditEvents({ limit: 2 });
    expect(first.items.map((e) => e.at)).toEqual([NOW, NOW - 1]);
    const rest = await a.auditEvents({ limit: 10, before: first.next! });
    expect(rest.items.map((e) => e.at)).toEqual([NOW - 2, NOW - 3, NOW - 4]);
    expect(rest.next).toBeNull();
    await expect(a.auditEvents({ limit: 2, before: 'garbage' })).rejects.toMatchObject({ field: 'cursor' });
    await expect(a.auditEvents({ limit: 2, event: 'nope' })).rejects.toMatchObject({ field: 'event' });
    await expect(a.auditEvents({ limit: 2, since: NOW, until: NOW })).rejects.toMatchObject({ field: 'since' });
  });

  it('counts issued, refreshed, failed and locked per minute over the hour and per hour over the day', async () => {
    now = NOW - (NOW % 3600) + 1800; // half past an hour
    await record(now, 'token.issued');
    await record(now, 'token.issued');
    await record(now - 60, 'refresh_token.rotated');
    await record(now - 3 * 3600, 'login.failed');
    await record(now - 59 * 60, 'lockout.started');
    await record(now - 2 * 86_400, 'token.issued'); // outside both
    const { lastHour, lastDay } = await admin().activity();
    expect(lastHour.buckets).toHaveLength(60);
    expect(lastHour.buckets.at(-1)).toBe(now - (now % 60));
    expect(lastHour.counts.issued.at(-1)).toBe(2);
    expect(lastHour.counts.refreshed.at(-2)).toBe(1);
    expect(lastHour.counts.locked[0]).toBe(1);
    expect(lastHour.counts.failed.every((n) => n === 0)).toBe(true);
    expect(lastDay.buckets).toHaveLength(24);
    expect(lastDay.counts.failed.at(-4)).toBe(1);
    expect(lastDay.counts.issued.reduce((s, n) => s + n, 0)).toBe(2);
  });

  it('lists the clients that used the password grant in the last 30 days, busiest first', async () => {
    const a = admin();
    await a.createClient({ name: 'Legacy', clientId: 'legacy' });
    await a.createClient({ name: 'Modern', clientId: 'modern', grantTypes: ['client_credentials'] });
    const day = Math.floor(NOW / 86_400);
    await store.recordClientUsage([
      { clientId: 'legacy', grantType: 'password', day, requests: 3, lastUsedAt: NOW - 10 },
      { clientId: 'legacy', grantType: 'password', day: day - 40, requests: 100, lastUsedAt: NOW - 40 * 86_400 },
      { clientId: 'modern', grantType: 'client_credentials', day, requests: 9, lastUsedAt: NOW },
    ]);
    expect(await a.passwordGrantClients()).toEqual([
      { clientId: 'legacy', name: 'Legacy', requests: 3, lastUsedAt: NOW - 10, sunsetAt: null },
    ]);
  });
});

describe('bootstrap', () => {
  it('creates the first admin user, then refuses while any admin exists', async () => {
    const a = admin();
    const { user, created } = await a.bootstrapAdminUser('root', { password: 'root-password' });
    expect(created).toBe(true);
    expect(user.isAdmin).toBe(true);
    await expect(a.bootstrapAdminUser('other', { password: 'other-password' })).rejects.toMatchObject({
      code: 'exists',
      message: expect.stringContaining('user "root"'),
    });
    await expect(a.bootstrapAdminClient('ops')).rejects.toMatchObject({ code: 'exists' });
    expect(await a.admins()).toEqual({ users: ['root'], clients: [] });
  });

  it('promotes an existing user, or refuses to take its name without --promote', async () => {
    const a = admin();
    await a.createUser('jane', 'jane-password');
    await expect(a.bootstrapAdminUser('jane', { password: 'other-password' })).rejects.toMatchObject({
      code: 'exists',
      field: 'username',
    });
    await expect(a.bootstrapAdminUser('ghost', { promote: true })).rejects.toMatchObject({ code: 'not_found' });
    events = [];
    expect((await a.bootstrapAdminUser('jane', { promote: true })).user.isAdmin).toBe(true);
    expect(names()).toEqual(['user.admin_granted']);
  });

  it('creates an admin client with a secret shown once, client_credentials and oauthd:admin', async () => {
    const { client, clientSecret } = await admin().bootstrapAdminClient('ops', { clientId: 'ops' });
    expect(client).toMatchObject({
      clientId: 'ops',
      isPublic: false,
      grantTypes: ['client_credentials'],
      scopes: ['oauthd:admin'],
      defaultScopes: ['oauthd:admin'],
    });
    expect(clientSecret.length).toBeGreaterThan(20);
    expect(JSON.stringify(events)).not.toContain(clientSecret);
    expect(await admin().admins()).toEqual({ users: [], clients: ['ops'] });
    await expect(admin().bootstrapAdminUser('root', { password: 'root-password' })).rejects.toMatchObject({
      message: expect.stringContaining('client "ops"'),
    });
  });
});
