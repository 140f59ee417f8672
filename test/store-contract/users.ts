/** The UserStore contract (src/core/ports.ts). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import {
  T,
  newUser,
  issueGrant,
  rotation,
  expectRevokedAt,
  addClient,
  addUser,
  addGrant,
  newTokenAt,
  type ContractSubject,
} from './fixtures.js';

/** Creating and finding users, their passwords, and disabling them. */
export function userContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('users', () => {
    it(
      'createUser returns created for a new username and exists for the same username, leaving the first user ' +
        'unchanged',
      async () => {
        const user = newUser({ username: 'alice', passwordHash: 'hash-1' });
        expect(await store.createUser(user)).toBe('created');
        expect(await store.createUser({ ...user, passwordHash: 'hash-2', isActive: false })).toBe('exists');
        const found = await store.findUserByUsername('alice');
        expect(found).toMatchObject({ username: 'alice', passwordHash: 'hash-1', isActive: true });
      },
    );

    it('findUserByUsername returns every field with a numeric id and updatedAt equal to createdAt', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: 'hash-1', isActive: true, createdAt: T + 7 }));
      const found = await store.findUserByUsername('alice');
      expect(found).toEqual({
        id: expect.any(Number),
        username: 'alice',
        passwordHash: 'hash-1',
        isActive: true,
        isAdmin: false,
        version: 1,
        createdAt: T + 7,
        updatedAt: T + 7,
      });
      expect(Number.isInteger(found?.id)).toBe(true);
    });

    it('findUserByUsername returns an inactive user with a null password hash as created', async () => {
      await store.createUser(newUser({ username: 'locked', passwordHash: null, isActive: false }));
      expect(await store.findUserByUsername('locked')).toMatchObject({ passwordHash: null, isActive: false });
    });

    it('findUserByUsername is case-sensitive: alice and Alice are two different users', async () => {
      expect(await store.createUser(newUser({ username: 'alice', passwordHash: 'hash-lower' }))).toBe('created');
      expect(await store.findUserByUsername('Alice')).toBeNull();
      expect(await store.createUser(newUser({ username: 'Alice', passwordHash: 'hash-upper' }))).toBe('created');
      const lower = await store.findUserByUsername('alice');
      const upper = await store.findUserByUsername('Alice');
      expect(lower?.passwordHash).toBe('hash-lower');
      expect(upper?.passwordHash).toBe('hash-upper');
      expect(lower?.id).not.toBe(upper?.id);
    });

    it('findUserByUsername returns null for an unknown username', async () => {
      expect(await store.findUserByUsername('nobody')).toBeNull();
    });

    it('listUsers returns every created user with distinct ids', async () => {
      await store.createUser(newUser({ username: 'alice' }));
      await store.createUser(newUser({ username: 'bob', isActive: false, passwordHash: null }));
      const listed = await store.listUsers();
      expect(listed.map((u) => u.username).sort()).toEqual(['alice', 'bob']);
      expect(new Set(listed.map((u) => u.id)).size).toBe(2);
      const alice = await store.findUserByUsername('alice');
      const bob = await store.findUserByUsername('bob');
      expect(listed).toEqual(expect.arrayContaining([alice, bob]));
    });

    it('setUserPassword returns false for an unknown user and creates nothing', async () => {
      expect(await store.setUserPassword('nobody', 'hash', { revokeGrants: true, now: T + 5 })).toBe(false);
      expect(await store.findUserByUsername('nobody')).toBeNull();
      expect(await store.counts()).toEqual({ clients: 0, users: 0 });
    });

    it('setUserPassword replaces the hash and sets updatedAt to now', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: 'old' }));
      expect(await store.setUserPassword('alice', 'new', { revokeGrants: false, now: T + 50 })).toBe(true);
      expect(await store.findUserByUsername('alice')).toMatchObject({
        passwordHash: 'new',
        createdAt: T,
        updatedAt: T + 50,
      });
    });

    it(
      'setUserPassword with revokeGrants true revokes every token ' + 'of every grant of the user and no other user’s',
      async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice' });
        const rotated = rotation(g2, g2.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(rotated)).toBe('rotated');
        const bob = await issueGrant(store, { username: 'bob', clientId: g1.clientId });

        expect(await store.setUserPassword('alice', 'new', { revokeGrants: true, now: T + 60 })).toBe(true);

        await expectRevokedAt(
          store,
          { access: [g1.access.hash, rotated.access.hash], refresh: [g1.refresh.hash, rotated.refresh.hash] },
          T + 60,
        );
        // Tokens revoked earlier (the first access token of g2, revoked by the rotation) stay revoked.
        expect((await store.findAccessToken(g2.access.hash))?.revokedAt).not.toBeNull();
        expect((await store.findRefreshToken(g2.refresh.hash))?.revokedAt).not.toBeNull();
        await expectRevokedAt(store, { access: [bob.access.hash], refresh: [bob.refresh.hash] }, null);
      },
    );

    it('setUserPassword with revokeGrants false leaves the user’s tokens live', async () => {
      const g = await issueGrant(store, { username: 'alice' });
      expect(await store.setUserPassword('alice', 'new', { revokeGrants: false, now: T + 60 })).toBe(true);
      await expectRevokedAt(store, { access: [g.access.hash], refresh: [g.refresh.hash] }, null);
      expect(await store.rotateRefreshToken(rotation(g, g.refresh.hash, T + 70))).toBe('rotated');
    });

    it('replacePasswordHash replaces the hash and sets updatedAt when the expected hash still matches', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: 'old-params' }));
      const user = await store.findUserByUsername('alice');
      await store.replacePasswordHash(user!.id, 'old-params', 'new-params', T + 30);
      expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: 'new-params', updatedAt: T + 30 });
    });

    it(
      'replacePasswordHash changes nothing when the stored hash is no longer the expected one (a concurrent ' +
        'set-password wins)',
      async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'old-params' }));
        const user = await store.findUserByUsername('alice');
        await store.setUserPassword('alice', 'set-by-admin', { revokeGrants: false, now: T + 20 });
        await store.replacePasswordHash(user!.id, 'old-params', 'rehashed-old', T + 30);
        expect(await store.findUserByUsername('alice')).toMatchObject({
          passwordHash: 'set-by-admin',
          updatedAt: T + 20,
        });
      },
    );

    it('replacePasswordHash changes nothing for a user whose password hash is null', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: null }));
      const user = await store.findUserByUsername('alice');
      await store.replacePasswordHash(user!.id, 'anything', 'new', T + 30);
      expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: null, updatedAt: T });
    });

    it('replacePasswordHash only touches the user whose id is given', async () => {
      await store.createUser(newUser({ username: 'alice', passwordHash: 'same' }));
      await store.createUser(newUser({ username: 'bob', passwordHash: 'same' }));
      const alice = await store.findUserByUsername('alice');
      await store.replacePasswordHash(alice!.id, 'same', 'new', T + 30);
      expect((await store.findUserByUsername('alice'))?.passwordHash).toBe('new');
      expect((await store.findUserByUsername('bob'))?.passwordHash).toBe('same');
    });

    it('setUserActive returns false for an unknown user', async () => {
      expect(await store.setUserActive('nobody', false, T + 5)).toBe(false);
      expect(await store.findUserByUsername('nobody')).toBeNull();
    });

    it(
      'setUserActive(false) disables the user, revokes every token of every grant of that user and no other ' +
        'user’s',
      async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice' });
        const bob = await issueGrant(store, { username: 'bob', clientId: g1.clientId });

        expect(await store.setUserActive('alice', false, T + 80)).toBe(true);

        expect(await store.findUserByUsername('alice')).toMatchObject({ isActive: false, updatedAt: T + 80 });
        await expectRevokedAt(
          store,
          { access: [g1.access.hash, g2.access.hash], refresh: [g1.refresh.hash, g2.refresh.hash] },
          T + 80,
        );
        expect(await store.findAccessToken(g1.access.hash)).toMatchObject({ userIsActive: false });
        expect(await store.findRefreshToken(g1.refresh.hash)).toMatchObject({ userIsActive: false });
        expect(await store.rotateRefreshToken(rotation(g2, g2.refresh.hash, T + 90))).toBe('revoked');

        expect(await store.findUserByUsername('bob')).toMatchObject({ isActive: true });
        await expectRevokedAt(store, { access: [bob.access.hash], refresh: [bob.refresh.hash] }, null);
        expect(await store.findAccessToken(bob.access.hash)).toMatchObject({ userIsActive: true });
      },
    );

    it('setUserActive(true) re-enables the user without reviving the tokens revoked when it was disabled', async () => {
      const g = await issueGrant(store, { username: 'alice' });
      await store.setUserActive('alice', false, T + 80);
      expect(await store.setUserActive('alice', true, T + 90)).toBe(true);
      expect(await store.findUserByUsername('alice')).toMatchObject({ isActive: true, updatedAt: T + 90 });
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: true, revokedAt: T + 80 });
      expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ userIsActive: true, revokedAt: T + 80 });
    });
  });
}

/** `oauthd user show | delete | rename | sessions | revoke`. */
export function userOperatorContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('users', () => {
    it('renameUser renames, and the user’s tokens keep working under the new name', async () => {
      const c = await addClient(store);
      const u = await addUser(store);
      const g = await addGrant(store, c, u.id);
      expect(await store.renameUser(u.username, 'renamed-user', T + 1)).toBe('renamed');
      expect(await store.findUserByUsername(u.username)).toBeNull();
      expect((await store.findUserByUsername('renamed-user'))?.id).toBe(u.id);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ username: 'renamed-user', revokedAt: null });
      expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ username: 'renamed-user', revokedAt: null });
    });

    it('renameUser to a taken name answers exists and changes nothing; an unknown user is not_found', async () => {
      const a = await addUser(store);
      const b = await addUser(store);
      expect(await store.renameUser(a.username, b.username, T)).toBe('exists');
      expect((await store.findUserByUsername(a.username))?.id).toBe(a.id);
      expect((await store.findUserByUsername(b.username))?.id).toBe(b.id);
      expect(await store.renameUser('nobody', 'x', T)).toBe('not_found');
    });

    it(
      'deleteUser deletes the user and every token it holds, reports its live grants, and leaves other users ' +
        'alone',
      async () => {
        const c = await addClient(store);
        const u = await addUser(store);
        const other = await addUser(store);
        const g1 = await addGrant(store, c, u.id);
        const g2 = await addGrant(store, c, u.id);
        await store.revokeGrant(g2.id, T + 1);
        const kept = await addGrant(store, c, other.id);
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
        expect(await store.createUser({ username: u.username, passwordHash: null, isActive: true, createdAt: T })).toBe(
          'created',
        );
      },
    );

    it('listUserGrants lists live grants only, oldest first, with the time of their latest token', async () => {
      const c = await addClient(store);
      const u = await addUser(store);
      const first = await addGrant(store, c, u.id, T);
      const revoked = await addGrant(store, c, u.id, T + 1);
      await store.revokeGrant(revoked.id, T + 2);
      // A grant whose refresh token and access token have both expired is no session any more.
      await addGrant(store, c, u.id, T + 3, 60);
      const rotated = await addGrant(store, c, u.id, T + 4);
      expect(
        await store.rotateRefreshToken({
          presentedHash: rotated.refresh.hash,
          grantId: rotated.id,
          access: { ...newTokenAt(T + 500), expiresAt: T + 4100 },
          refresh: newTokenAt(T + 500, null),
          now: T + 500,
        }),
      ).toBe('rotated');
      const now = T + 3700; // the first access tokens expired, the 60 s refresh token too
      const grants = await store.listUserGrants(u.id, now);
      expect(grants).toEqual([
        { grantId: first.id, clientId: c, scope: ['read'], createdAt: T, lastUsedAt: T },
        { grantId: rotated.id, clientId: c, scope: ['read'], createdAt: T + 4, lastUsedAt: T + 500 },
      ]);
      expect(await store.listUserGrants(u.id + 1000, now)).toEqual([]);
    });

    it(
      'revokeUserGrants revokes the live grants of one client or of all, every token in them, and returns their ' +
        'ids',
      async () => {
        const a = await addClient(store);
        const b = await addClient(store);
        const u = await addUser(store);
        const ga = await addGrant(store, a, u.id);
        const gb1 = await addGrant(store, b, u.id);
        const gb2 = await addGrant(store, b, u.id);
        expect((await store.revokeUserGrants(u.id, { clientId: b, now: T + 10 })).sort()).toEqual(
          [gb1.id, gb2.id].sort(),
        );
        expect((await store.findAccessToken(gb1.access.hash))?.revokedAt).toBe(T + 10);
        expect((await store.findRefreshToken(gb2.refresh.hash))?.revokedAt).toBe(T + 10);
        expect((await store.findAccessToken(ga.access.hash))?.revokedAt).toBeNull();
        expect(await store.revokeUserGrants(u.id, { now: T + 11 })).toEqual([ga.id]);
        expect((await store.findRefreshToken(ga.refresh.hash))?.revokedAt).toBe(T + 11);
        expect(await store.revokeUserGrants(u.id, { now: T + 12 })).toEqual([]);
      },
    );

    it('of two concurrent revokeUserGrants each grant is reported revoked by exactly one', async () => {
      const c = await addClient(store);
      const u = await addUser(store);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await addGrant(store, c, u.id)).id);
      const [x, y] = await Promise.all([
        store.revokeUserGrants(u.id, { now: T + 1 }),
        store.revokeUserGrants(u.id, { now: T + 1 }),
      ]);
      expect([...x!, ...y!].sort()).toEqual(ids.sort());
    });
  });
}
