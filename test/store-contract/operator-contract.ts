/**
 * The Store contract of the operator's intentions (`oauthd client update`, `user show | delete | rename |
 * sessions | revoke`, `lockout list | clear`), run by every backend's test file like contract.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewLockout, Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import type { OpenedStore } from './contract.js';

const T = 1_700_000_000;

const token = (issuedAt: number, ttl: number | null = 3600) => ({
  hash: tokenKey(mintToken(Date.now())),
  scope: ['read'],
  issuedAt,
  expiresAt: ttl === null ? null : issuedAt + ttl,
});

async function client(store: Store, clientId = `client-${randomUUID()}`): Promise<string> {
  await store.createClient({ clientId, name: 'c', secretHash: 'h', isPublic: false, grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'], createdAt: T });
  return clientId;
}

async function user(store: Store, username = `user-${randomUUID()}`): Promise<{ id: number; username: string }> {
  await store.createUser({ username, passwordHash: 'p', isActive: true, createdAt: T });
  const found = (await store.findUserByUsername(username))!;
  return { id: found.id, username };
}

/** A grant with its first pair: access token for 1 h, refresh token without expiry unless given. */
async function grant(store: Store, clientId: string, userId: number, at = T, refreshTtl: number | null = null) {
  const id = randomUUID();
  const access = { ...token(at), expiresAt: at + 3600 };
  const refresh = token(at, refreshTtl);
  expect(await store.issueTokens({ grant: { id, clientId, userId, scope: ['read'], createdAt: at }, access, refresh })).toBe('issued');
  return { id, access, refresh };
}

const lockout = (overrides: Partial<NewLockout>): NewLockout => ({
  kind: 'user_ip',
  username: null,
  clientId: null,
  ipKey: null,
  startedAt: T,
  until: T + 900,
  ...overrides,
});

export function runOperatorContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract (operator intentions): ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('updateClient', () => {
      it('changes only the fields given and returns the client as stored', async () => {
        const id = await client(store);
        const updated = await store.updateClient(id, { scopes: ['read'] }, T + 5);
        expect(updated).toMatchObject({ clientId: id, name: 'c', scopes: ['read'], grantTypes: ['password', 'refresh_token'] });
        expect(updated?.defaultScopes ?? null).toBeNull();
        await store.updateClient(id, { name: 'renamed', grantTypes: ['password'], defaultScopes: ['read'] }, T + 6);
        expect(await store.findClient(id)).toMatchObject({ name: 'renamed', scopes: ['read'], grantTypes: ['password'], defaultScopes: ['read'], secretHash: 'h' });
      });

      it('sets the default scopes back to the server’s with null, and keeps them when left out', async () => {
        const id = await client(store);
        await store.updateClient(id, { defaultScopes: ['write'] }, T);
        await store.updateClient(id, { name: 'other' }, T);
        expect((await store.findClient(id))?.defaultScopes).toEqual(['write']);
        await store.updateClient(id, { defaultScopes: null }, T);
        expect((await store.findClient(id))?.defaultScopes ?? null).toBeNull();
      });

      it('answers null for an unknown client and creates nothing', async () => {
        expect(await store.updateClient('nobody', { name: 'x' }, T)).toBeNull();
        expect(await store.findClient('nobody')).toBeNull();
      });

      it('keeps default scopes given at creation', async () => {
        await store.createClient({ clientId: 'with-defaults', name: 'c', secretHash: null, isPublic: true, grantTypes: ['password'], scopes: ['read', 'write'], defaultScopes: ['read'], createdAt: T });
        expect((await store.findClient('with-defaults'))?.defaultScopes).toEqual(['read']);
      });
    });

    describe('users', () => {
      it('renameUser renames, and the user’s tokens keep working under the new name', async () => {
        const c = await client(store);
        const u = await user(store);
        const g = await grant(store, c, u.id);
        expect(await store.renameUser(u.username, 'renamed-user', T + 1)).toBe('renamed');
        expect(await store.findUserByUsername(u.username)).toBeNull();
        expect((await store.findUserByUsername('renamed-user'))?.id).toBe(u.id);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ username: 'renamed-user', revokedAt: null });
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ username: 'renamed-user', revokedAt: null });
      });

      it('renameUser to a taken name answers exists and changes nothing; an unknown user is not_found', async () => {
        const a = await user(store);
        const b = await user(store);
        expect(await store.renameUser(a.username, b.username, T)).toBe('exists');
        expect((await store.findUserByUsername(a.username))?.id).toBe(a.id);
        expect((await store.findUserByUsername(b.username))?.id).toBe(b.id);
        expect(await store.renameUser('nobody', 'x', T)).toBe('not_found');
      });

      it('deleteUser deletes the user and every token it holds, reports its live grants, and leaves other users alone', async () => {
        const c = await client(store);
        const u = await user(store);
        const other = await user(store);
        const g1 = await grant(store, c, u.id);
        const g2 = await grant(store, c, u.id);
        await store.revokeGrant(g2.id, T + 1);
        const kept = await grant(store, c, other.id);
        const deleted = await store.deleteUser(u.username, T + 2);
        expect(deleted).toMatchObject({ user: { id: u.id, username: u.username }, liveGrants: 1 });
        expect(await store.findUserByUsername(u.username)).toBeNull();
        for (const g of [g1, g2]) {
          expect(await store.findAccessToken(g.access.hash)).toBeNull();
          expect(await store.findRefreshToken(g.refresh.hash)).toBeNull();
        }
        expect(await store.findAccessToken(kept.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.deleteUser(u.username, T + 3)).toBeNull();
        // The name is free again.
        expect(await store.createUser({ username: u.username, passwordHash: null, isActive: true, createdAt: T })).toBe('created');
      });

      it('listUserGrants lists live grants only, oldest first, with the time of their latest token', async () => {
        const c = await client(store);
        const u = await user(store);
        const first = await grant(store, c, u.id, T);
        const revoked = await grant(store, c, u.id, T + 1);
        await store.revokeGrant(revoked.id, T + 2);
        // A grant whose refresh token and access token have both expired is no session any more.
        await grant(store, c, u.id, T + 3, 60);
        const rotated = await grant(store, c, u.id, T + 4);
        expect(
          await store.rotateRefreshToken({ presentedHash: rotated.refresh.hash, grantId: rotated.id, access: { ...token(T + 500), expiresAt: T + 4100 }, refresh: token(T + 500, null), now: T + 500 }),
        ).toBe('rotated');
        const now = T + 3700; // the first access tokens expired, the 60 s refresh token too
        const grants = await store.listUserGrants(u.id, now);
        expect(grants).toEqual([
          { grantId: first.id, clientId: c, scope: ['read'], createdAt: T, lastUsedAt: T },
          { grantId: rotated.id, clientId: c, scope: ['read'], createdAt: T + 4, lastUsedAt: T + 500 },
        ]);
        expect(await store.listUserGrants(u.id + 1000, now)).toEqual([]);
      });

      it('revokeUserGrants revokes the live grants of one client or of all, every token in them, and returns their ids', async () => {
        const a = await client(store);
        const b = await client(store);
        const u = await user(store);
        const ga = await grant(store, a, u.id);
        const gb1 = await grant(store, b, u.id);
        const gb2 = await grant(store, b, u.id);
        expect((await store.revokeUserGrants(u.id, { clientId: b, now: T + 10 })).sort()).toEqual([gb1.id, gb2.id].sort());
        expect((await store.findAccessToken(gb1.access.hash))?.revokedAt).toBe(T + 10);
        expect((await store.findRefreshToken(gb2.refresh.hash))?.revokedAt).toBe(T + 10);
        expect((await store.findAccessToken(ga.access.hash))?.revokedAt).toBeNull();
        expect(await store.revokeUserGrants(u.id, { now: T + 11 })).toEqual([ga.id]);
        expect((await store.findRefreshToken(ga.refresh.hash))?.revokedAt).toBe(T + 11);
        expect(await store.revokeUserGrants(u.id, { now: T + 12 })).toEqual([]);
      });

      it('of two concurrent revokeUserGrants each grant is reported revoked by exactly one', async () => {
        const c = await client(store);
        const u = await user(store);
        const ids = [];
        for (let i = 0; i < 5; i++) ids.push((await grant(store, c, u.id)).id);
        const [x, y] = await Promise.all([store.revokeUserGrants(u.id, { now: T + 1 }), store.revokeUserGrants(u.id, { now: T + 1 })]);
        expect([...x!, ...y!].sort()).toEqual(ids.sort());
      });
    });

    describe('lockouts', () => {
      it('listActiveLockouts returns lockouts in force and not cleared, oldest first', async () => {
        await store.recordLockouts([
          lockout({ kind: 'user_ip', username: 'alice', ipKey: '198.51.100.7', startedAt: T }),
          lockout({ kind: 'ip', ipKey: '198.51.100.8', startedAt: T + 1 }),
          lockout({ kind: 'client_ip', clientId: 'c1', ipKey: '2001:db8:1:2::/64', startedAt: T - 1000, until: T - 100 }),
        ]);
        const active = await store.listActiveLockouts(T + 10);
        expect(active.map((l) => ({ kind: l.kind, username: l.username, clientId: l.clientId, ipKey: l.ipKey, startedAt: l.startedAt, until: l.until, clearedAt: l.clearedAt }))).toEqual([
          { kind: 'user_ip', username: 'alice', clientId: null, ipKey: '198.51.100.7', startedAt: T, until: T + 900, clearedAt: null },
          { kind: 'ip', username: null, clientId: null, ipKey: '198.51.100.8', startedAt: T + 1, until: T + 900, clearedAt: null },
        ]);
        expect(await store.listActiveLockouts(T + 901)).toEqual([]);
      });

      it('clearLockouts by username ends that user’s lockouts (any IP, and across IPs) and no other', async () => {
        await store.recordLockouts([
          lockout({ kind: 'user_ip', username: 'alice', ipKey: '198.51.100.7' }),
          lockout({ kind: 'user', username: 'alice' }),
          lockout({ kind: 'user_ip', username: 'bob', ipKey: '198.51.100.7' }),
          lockout({ kind: 'ip', ipKey: '198.51.100.7' }),
        ]);
        const cleared = await store.clearLockouts({ username: 'alice' }, T + 5);
        expect(cleared.map((l) => [l.kind, l.username, l.clearedAt]).sort()).toEqual([['user', 'alice', T + 5], ['user_ip', 'alice', T + 5]]);
        expect((await store.listActiveLockouts(T + 6)).map((l) => [l.kind, l.username])).toEqual([['user_ip', 'bob'], ['ip', null]]);
        expect(await store.clearLockouts({ username: 'alice' }, T + 7)).toEqual([]);
      });

      it('clearLockouts by IP key ends the IP’s lockouts, every username’s and every client’s from it, and no other', async () => {
        await store.recordLockouts([
          lockout({ kind: 'ip', ipKey: '2001:db8:1:2::/64' }),
          lockout({ kind: 'user_ip', username: 'alice', ipKey: '2001:db8:1:2::/64' }),
          lockout({ kind: 'client_ip', clientId: 'c1', ipKey: '2001:db8:1:2::/64' }),
          lockout({ kind: 'ip', ipKey: '2001:db8:1:3::/64' }),
          lockout({ kind: 'user', username: 'alice' }),
        ]);
        const cleared = await store.clearLockouts({ ipKey: '2001:db8:1:2::/64' }, T + 5);
        expect(cleared.map((l) => l.kind).sort()).toEqual(['client_ip', 'ip', 'user_ip']);
        expect((await store.listActiveLockouts(T + 6)).map((l) => [l.kind, l.ipKey])).toEqual([['ip', '2001:db8:1:3::/64'], ['user', null]]);
      });

      it('lockoutsClearedSince returns the lockouts cleared at or after the time given, and an ended lockout cannot be cleared', async () => {
        await store.recordLockouts([
          lockout({ kind: 'ip', ipKey: '192.0.2.1' }),
          lockout({ kind: 'ip', ipKey: '192.0.2.2' }),
          lockout({ kind: 'ip', ipKey: '192.0.2.3', until: T + 5 }),
        ]);
        await store.clearLockouts({ ipKey: '192.0.2.1' }, T + 10);
        await store.clearLockouts({ ipKey: '192.0.2.2' }, T + 20);
        expect(await store.clearLockouts({ ipKey: '192.0.2.3' }, T + 20)).toEqual([]);
        expect((await store.lockoutsClearedSince(T + 10)).map((l) => [l.ipKey, l.clearedAt])).toEqual([['192.0.2.1', T + 10], ['192.0.2.2', T + 20]]);
        expect((await store.lockoutsClearedSince(T + 11)).map((l) => l.ipKey)).toEqual(['192.0.2.2']);
        expect(await store.lockoutsClearedSince(T + 21)).toEqual([]);
      });

      it('of two concurrent clears of one user each lockout is reported cleared by exactly one', async () => {
        await store.recordLockouts(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ipKey) => lockout({ username: 'carol', ipKey })));
        const [x, y] = await Promise.all([store.clearLockouts({ username: 'carol' }, T + 1), store.clearLockouts({ username: 'carol' }, T + 1)]);
        expect([...x!, ...y!].map((l) => l.ipKey).sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
      });

      it('deleteExpired removes lockouts that ended more than the retention ago', async () => {
        await store.recordLockouts([lockout({ kind: 'ip', ipKey: '192.0.2.9', until: T + 10 }), lockout({ kind: 'ip', ipKey: '192.0.2.10', until: T + 1000 })]);
        await store.clearLockouts({ ipKey: '192.0.2.9' }, T + 5);
        expect(await store.deleteExpired({ now: T + 500, retentionSeconds: 100, limit: 100 })).toBe(1);
        expect((await store.lockoutsClearedSince(0)).length).toBe(0);
        expect((await store.listActiveLockouts(T + 500)).map((l) => l.ipKey)).toEqual(['192.0.2.10']);
      });
    });
  });
}
