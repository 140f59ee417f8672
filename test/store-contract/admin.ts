/**
 * The Store contract of what the admin API and the console need (issue 18): versions (the ETag of If-Match
 * updates) bumped by every administrative change and by nothing else, `ifVersion` refusing a lost update
 * without changing anything, updateUser in one transaction, keyset pages with search, audit paging and
 * activity counts, and the admin flag read with an access token.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import { T, addClient, addGrant, addUser, newAccess, newClient, newUser, type ContractSubject } from './fixtures.js';

const versionOfClient = async (store: Store, clientId: string) => (await store.findClient(clientId))?.version;
const versionOfUser = async (store: Store, username: string) => (await store.findUserByUsername(username))?.version;

export function adminContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('admin: versions', () => {
    it('a client starts at version 1; updateClient and setClientSecret each bump it once', async () => {
      const id = await addClient(store);
      expect(await versionOfClient(store, id)).toBe(1);
      expect(await store.updateClient(id, { name: 'renamed' }, T + 1)).toMatchObject({ name: 'renamed', version: 2 });
      expect(await store.setClientSecret(id, 'new-hash', T + 2)).toBe(true);
      expect(await versionOfClient(store, id)).toBe(3);
      expect((await store.listClients()).map((c) => c.version)).toEqual([3]);
    });

    it('setClientSecret refused for a public client leaves its version', async () => {
      const client = newClient({ secretHash: null, isPublic: true });
      await store.createClient(client);
      expect(await store.setClientSecret(client.clientId, 'h', T + 1)).toBe(false);
      expect(await versionOfClient(store, client.clientId)).toBe(1);
    });

    it('createUser stores the admin flag (false when left out) at version 1', async () => {
      await store.createUser(newUser({ username: 'admin', isAdmin: true }));
      await store.createUser(newUser({ username: 'plain' }));
      expect(await store.findUserByUsername('admin')).toMatchObject({ isAdmin: true, version: 1 });
      expect(await store.findUserByUsername('plain')).toMatchObject({ isAdmin: false, version: 1 });
    });

    it('every administrative change of a user bumps its version once; a login hash upgrade does not', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: 'h1' }));
      expect(await store.setUserPassword('alice', 'h2', { revokeGrants: false, now: T + 1 })).toBe(true);
      expect(await versionOfUser(store, 'alice')).toBe(2);
      const { id } = (await store.findUserByUsername('alice'))!;
      await store.replacePasswordHash(id, 'h2', 'h2-rehashed', T + 2);
      expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: 'h2-rehashed', version: 2 });
      expect(await store.setUserPassword('alice', 'h3', { revokeGrants: true, now: T + 3 })).toBe(true);
      expect(await versionOfUser(store, 'alice')).toBe(3);
      expect(await store.setUserActive('alice', false, T + 4)).toBe(true);
      expect(await versionOfUser(store, 'alice')).toBe(4);
      expect(await store.renameUser('alice', 'alicia', T + 5)).toBe('renamed');
      expect(await versionOfUser(store, 'alicia')).toBe(5);
      const update = await store.updateUser('alicia', { isActive: true, isAdmin: true }, { now: T + 6 });
      expect(update).toEqual({
        status: 'updated',
        user: expect.objectContaining({ username: 'alicia', isActive: true, isAdmin: true, version: 6 }),
      });
      expect((await store.listUsers()).map((u) => u.version)).toEqual([6]);
    });
  });

  describe('admin: ifVersion', () => {
    it('updateClient with a stale version changes nothing; with the current one it applies', async () => {
      const id = await addClient(store);
      expect(await store.updateClient(id, { name: 'lost' }, T + 1, { ifVersion: 2 })).toBe('version_mismatch');
      expect(await store.findClient(id)).toMatchObject({ name: 'c', version: 1 });
      expect(await store.updateClient(id, { name: 'won' }, T + 2, { ifVersion: 1 })).toMatchObject({
        name: 'won',
        version: 2,
      });
      expect(await store.updateClient(id, { name: 'stale' }, T + 3, { ifVersion: 1 })).toBe('version_mismatch');
      expect(await store.updateClient('no-such-client', { name: 'x' }, T + 3, { ifVersion: 1 })).toBeNull();
    });

    it('deleteClient with a stale version deletes nothing: the client and its live tokens stay', async () => {
      const id = await addClient(store);
      const user = await addUser(store);
      const grant = await addGrant(store, id, user.id);
      await store.updateClient(id, { name: 'v2' }, T + 1);
      expect(await store.deleteClient(id, { ifVersion: 1 })).toBe('version_mismatch');
      expect(await store.findClient(id)).toMatchObject({ name: 'v2', version: 2 });
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.findRefreshToken(grant.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: null });
      expect(await store.deleteClient(id, { ifVersion: 2 })).toBe(true);
      expect(await store.findClient(id)).toBeNull();
      expect(await store.findAccessToken(grant.access.hash)).toBeNull();
      expect(await store.deleteClient(id, { ifVersion: 2 })).toBe(false);
    });

    it('updateUser with a stale version changes nothing', async () => {
      const { id } = await addUser(store, 'bob');
      const grant = await addGrant(store, await addClient(store), id);
      const stale = await store.updateUser('bob', { isActive: false, isAdmin: true }, { now: T + 1, ifVersion: 2 });
      expect(stale).toEqual({ status: 'version_mismatch' });
      expect(await store.findUserByUsername('bob')).toMatchObject({ isActive: true, isAdmin: false, version: 1 });
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ revokedAt: null, userIsActive: true });
      const current = await store.updateUser('bob', { isAdmin: true }, { now: T + 2, ifVersion: 1 });
      expect(current).toMatchObject({ status: 'updated', user: { isAdmin: true, version: 2 } });
    });

    it('deleteUser with a stale version deletes nothing: the user and its live tokens stay', async () => {
      const { id } = await addUser(store, 'carol');
      const grant = await addGrant(store, await addClient(store), id);
      expect(await store.deleteUser('carol', T + 1, { ifVersion: 5 })).toBe('version_mismatch');
      expect(await store.findUserByUsername('carol')).toMatchObject({ version: 1 });
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.deleteUser('carol', T + 2, { ifVersion: 1 })).toMatchObject({ liveGrants: 1 });
      expect(await store.findUserByUsername('carol')).toBeNull();
      expect(await store.deleteUser('carol', T + 3, { ifVersion: 1 })).toBeNull();
    });
  });

  describe('admin: updateUser', () => {
    it('a taken new name changes nothing, not even the other fields given', async () => {
      const { id } = await addUser(store, 'dave');
      await addUser(store, 'erin');
      const grant = await addGrant(store, await addClient(store), id);
      const taken = await store.updateUser(
        'dave',
        { username: 'erin', isAdmin: true, isActive: false },
        { now: T + 1 },
      );
      expect(taken).toEqual({ status: 'exists' });
      expect(await store.findUserByUsername('dave')).toMatchObject({ isActive: true, isAdmin: false, version: 1 });
      expect(await store.findUserByUsername('erin')).toMatchObject({ version: 1 });
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.renameUser('dave', 'erin', T + 2)).toBe('exists');
    });

    it('an unknown user is not_found', async () => {
      expect(await store.updateUser('nobody', { isAdmin: true }, { now: T })).toEqual({ status: 'not_found' });
      expect(await store.renameUser('nobody', 'someone', T)).toBe('not_found');
      expect(await store.setUserActive('nobody', false, T)).toBe(false);
    });

    it('renames, disables and makes admin at once, bumping the version once', async () => {
      const { id } = await addUser(store, 'frank');
      const update = await store.updateUser(
        'frank',
        { username: 'francis', isActive: false, isAdmin: true },
        { now: T + 9 },
      );
      expect(update).toEqual({
        status: 'updated',
        user: expect.objectContaining({ id, username: 'francis', isActive: false, isAdmin: true, version: 2 }),
      });
      expect(await store.findUserByUsername('frank')).toBeNull();
      expect(await store.findUserByUsername('francis')).toMatchObject({ updatedAt: T + 9, version: 2 });
    });

    it('disabling revokes every grant and ends every browser session, as setUserActive(false) does', async () => {
      const { id } = await addUser(store, 'gina');
      const clientId = await addClient(store);
      const g1 = await addGrant(store, clientId, id);
      const g2 = await addGrant(store, clientId, id, T + 1);
      const session = { hash: tokenKey(mintToken(Date.now())), userId: id, createdAt: T, expiresAt: T + 3600 };
      await store.createBrowserSession(session);
      expect(await store.updateUser('gina', { isActive: false }, { now: T + 5 })).toMatchObject({ status: 'updated' });
      for (const g of [g1, g2]) {
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 5, userIsActive: false });
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ revokedAt: T + 5 });
      }
      expect(await store.listUserGrants(id, T + 6)).toEqual([]);
      expect(await store.listUserBrowserSessions(id, T + 6)).toEqual([]);
      // Enabling again restores nothing: the revoked grants stay revoked.
      expect(await store.updateUser('gina', { isActive: true }, { now: T + 7 })).toMatchObject({ status: 'updated' });
      expect(await store.findAccessToken(g1.access.hash)).toMatchObject({ revokedAt: T + 5, userIsActive: true });
    });
  });

  describe('admin: listings', () => {
    it('without a query, listClients and listUsers keep their order (creation, id)', async () => {
      await store.createClient(newClient({ clientId: 'zeta', createdAt: T }));
      await store.createClient(newClient({ clientId: 'alpha', createdAt: T + 1 }));
      await addUser(store, 'zoe');
      await addUser(store, 'adam');
      expect((await store.listClients()).map((c) => c.clientId)).toEqual(['zeta', 'alpha']);
      expect((await store.listUsers()).map((u) => u.username)).toEqual(['zoe', 'adam']);
    });

    it('pages clients by client_id byte-wise; `after` is exclusive', async () => {
      const ids = ['b', 'B', '_x', 'a', 'é', 'a-1', 'Z'];
      for (const clientId of ids) await store.createClient(newClient({ clientId }));
      const byteWise = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(byteWise).toEqual(['B', 'Z', '_x', 'a', 'a-1', 'b', 'é']);
      expect((await store.listClients({ limit: 100 })).map((c) => c.clientId)).toEqual(byteWise);
      expect((await store.listClients({ after: 'a', limit: 2 })).map((c) => c.clientId)).toEqual(['a-1', 'b']);
      expect((await store.listClients({ after: 'é', limit: 2 })).map((c) => c.clientId)).toEqual([]);
      expect(await pages((query) => store.listClients(query).then((l) => l.map((c) => c.clientId)), {}, 3)).toEqual(
        byteWise,
      );
    });

    it('searches client ids and names case-insensitively across page boundaries', async () => {
      const clients = [
        newClient({ clientId: 'app-billing', name: 'Billing' }),
        newClient({ clientId: 'app-crm', name: 'CRM for BILLING team' }),
        newClient({ clientId: 'billing-worker', name: 'Worker' }),
        newClient({ clientId: 'app-mail', name: 'Mail' }),
        newClient({ clientId: 'BillingExport', name: 'Export' }),
        newClient({ clientId: 'zz-last', name: 'last of the billing ones' }),
      ];
      for (const c of clients) await store.createClient(c);
      const found = await pages(
        (query) => store.listClients(query).then((l) => l.map((c) => c.clientId)),
        { search: 'bILLing' },
        2,
      );
      expect(found).toEqual(['BillingExport', 'app-billing', 'app-crm', 'billing-worker', 'zz-last']);
    });

    it('search takes % and _ as plain characters', async () => {
      for (const clientId of ['x%y', 'x_y', 'xay', 'xy']) await store.createClient(newClient({ clientId, name: 'n' }));
      const ids = async (search: string) => (await store.listClients({ search, limit: 10 })).map((c) => c.clientId);
      expect(await ids('%')).toEqual(['x%y']);
      expect(await ids('_')).toEqual(['x_y']);
      expect(await ids('x_')).toEqual(['x_y']);
      expect(await ids("'")).toEqual([]);
      for (const username of ['u%1', 'u_1', 'ua1', 'u1']) await addUser(store, username);
      const names = async (search: string) => (await store.listUsers({ search, limit: 10 })).map((u) => u.username);
      expect(await names('%')).toEqual(['u%1']);
      expect(await names('_')).toEqual(['u_1']);
      expect(await names('U')).toEqual(['u%1', 'u1', 'u_1', 'ua1']);
    });

    it('pages users by username byte-wise, with search, across page boundaries', async () => {
      const names = ['mallory', 'Mal', 'bob', 'alice', 'MALLOW', 'émile', 'smalls'];
      for (const username of names) await addUser(store, username);
      const all = await pages((query) => store.listUsers(query).then((l) => l.map((u) => u.username)), {}, 2);
      expect(all).toEqual(['MALLOW', 'Mal', 'alice', 'bob', 'mallory', 'smalls', 'émile']);
      const matching = await pages(
        (query) => store.listUsers(query).then((l) => l.map((u) => u.username)),
        { search: 'mal' },
        2,
      );
      expect(matching).toEqual(['MALLOW', 'Mal', 'mallory', 'smalls']);
      expect((await store.listUsers({ after: 'Mal', limit: 1 })).map((u) => u.username)).toEqual(['alice']);
    });
  });

  describe('admin: audit', () => {
    const event = (at: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
      at,
      event: 'token.issued',
      clientId: null,
      userId: null,
      username: null,
      grantId: null,
      ip: null,
      detail: '{}',
      ...overrides,
    });

    it('returns each event with its id; `before` pages through events sharing one `at`', async () => {
      const batch = [
        event(T + 1, { detail: '{"n":1}' }),
        event(T + 2, { detail: '{"n":2}' }),
        event(T + 2, { detail: '{"n":3}' }),
        event(T + 2, { detail: '{"n":4}' }),
        event(T + 2, { detail: '{"n":5}' }),
        event(T + 3, { detail: '{"n":6}' }),
      ];
      await store.recordAuditEvents(batch);
      const first = await store.queryAuditEvents({ limit: 2 });
      for (const e of first) expect(Number.isInteger(e.id)).toBe(true);
      const seen: string[] = [];
      let page = first;
      while (page.length > 0) {
        seen.push(...page.map((e) => e.detail));
        const last = page[page.length - 1]!;
        page = await store.queryAuditEvents({ limit: 2, before: { at: last.at, id: last.id! } });
      }
      // Newest first; in one second, the last written first (id DESC).
      expect(seen).toEqual(['{"n":6}', '{"n":5}', '{"n":4}', '{"n":3}', '{"n":2}', '{"n":1}']);
      const all = await store.queryAuditEvents({ limit: 10 });
      expect(all[0]).toEqual({ ...batch[5], id: expect.any(Number) });
      expect(new Set(all.map((e) => e.id)).size).toBe(6);
    });

    it('filters by user id, with the other filters', async () => {
      await store.recordAuditEvents([
        event(T, { userId: 7, username: 'u7', event: 'login.failed' }),
        event(T + 1, { userId: 8, username: 'u8', event: 'login.failed' }),
        event(T + 2, { userId: 7, username: 'u7-renamed', event: 'token.issued' }),
      ]);
      const of7 = await store.queryAuditEvents({ userId: 7, limit: 10 });
      expect(of7.map((e) => e.username)).toEqual(['u7-renamed', 'u7']);
      expect(await store.queryAuditEvents({ userId: 7, event: 'login.failed', limit: 10 })).toMatchObject([
        { username: 'u7' },
      ]);
      expect(await store.queryAuditEvents({ userId: 9, limit: 10 })).toEqual([]);
    });

    it('auditActivity counts the given events per bucket from `since` on, empty buckets left out', async () => {
      const base = 1_700_000_040; // a multiple of 60
      await store.recordAuditEvents([
        event(base - 1, { event: 'token.issued' }), // before `since`
        event(base, { event: 'token.issued' }),
        event(base + 59, { event: 'token.issued' }),
        event(base + 30, { event: 'login.failed' }),
        event(base + 60, { event: 'refresh_token.rotated' }),
        event(base + 185, { event: 'token.issued' }),
        event(base + 185, { event: 'user.created' }), // not asked for
      ]);
      const rows = await store.auditActivity({
        since: base,
        bucketSeconds: 60,
        events: ['token.issued', 'login.failed', 'refresh_token.rotated'],
      });
      expect(rows).toEqual([
        { bucket: base, event: 'login.failed', count: 1 },
        { bucket: base, event: 'token.issued', count: 2 },
        { bucket: base + 60, event: 'refresh_token.rotated', count: 1 },
        { bucket: base + 180, event: 'token.issued', count: 1 },
      ]);
      expect(await store.auditActivity({ since: base, bucketSeconds: 60, events: [] })).toEqual([]);
      expect(await store.auditActivity({ since: base + 1000, bucketSeconds: 60, events: ['token.issued'] })).toEqual(
        [],
      );
    });
  });

  describe('admin: the admin flag read with an access token', () => {
    it('userIsAdmin is true for an admin user, false for another, false without a user', async () => {
      const clientId = await addClient(store);
      await store.createUser(newUser({ username: 'root', isAdmin: true }));
      const admin = (await store.findUserByUsername('root'))!;
      const plain = await addUser(store, 'pleb');
      const adminGrant = await addGrant(store, clientId, admin.id);
      const plainGrant = await addGrant(store, clientId, plain.id);
      const access = newAccess(T);
      const grant = { id: randomUUID(), clientId, userId: null, scope: ['read'], createdAt: T };
      expect(await store.issueTokens({ grant, access, refresh: null })).toBe('issued');
      expect(await store.findAccessToken(adminGrant.access.hash)).toMatchObject({ userIsAdmin: true });
      expect(await store.findAccessToken(plainGrant.access.hash)).toMatchObject({ userIsAdmin: false });
      expect(await store.findAccessToken(access.hash)).toMatchObject({ userId: null, userIsAdmin: false });
    });

    it('a token read after the admin flag is taken tells it at once (no stale record)', async () => {
      const clientId = await addClient(store);
      await store.createUser(newUser({ username: 'root', isAdmin: true }));
      const admin = (await store.findUserByUsername('root'))!;
      const grant = await addGrant(store, clientId, admin.id);
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ userIsAdmin: true });
      await store.updateUser('root', { isAdmin: false }, { now: T + 1 });
      expect(await store.findAccessToken(grant.access.hash)).toMatchObject({ userIsAdmin: false, revokedAt: null });
    });
  });
}

/** Every item of a listing, read `limit` at a time, each page after the last item of the one before. */
async function pages(
  list: (query: { search?: string; after?: string; limit: number }) => Promise<string[]>,
  query: { search?: string },
  limit: number,
): Promise<string[]> {
  const all: string[] = [];
  for (;;) {
    const after = all[all.length - 1];
    const page = await list({ ...query, limit, ...(after !== undefined ? { after } : {}) });
    expect(page.length).toBeLessThanOrEqual(limit);
    all.push(...page);
    if (page.length < limit) return all;
  }
}
