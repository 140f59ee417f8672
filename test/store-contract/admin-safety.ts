/**
 * The Store contract, continued for the admin API (issue 18's security review):
 * - taking the admin flag (updateUser with isAdmin false): a refresh keeps the grant's scope (RFC 6749 §6), so
 *   the user's grants holding an admin scope are revoked in the same transaction, with their tokens and with the
 *   codes that would become such grants; every other grant stays;
 * - an `ifVersion` no version column can hold (NaN, a fraction, beyond 2^31-1) matches nothing: never an error,
 *   never a change made without its condition.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { newCode, newDevice, redemption } from './authorization-fixtures.js';
import { T, addClient, addUser, newAccess, newRefresh, newUser, type ContractSubject } from './fixtures.js';

/** Versions no row has and no integer column holds. */
const IMPOSSIBLE_VERSIONS = [Number.NaN, 1.5, 2 ** 31, 99_999_999_999, -1];

export function adminSafetyContract(subject: ContractSubject): void {
  impossibleVersionContract(subject);

  describe('admin: taking the admin flag revokes the admin-scoped grants', () => {
    let store: Store;
    let clientId: string;
    let userId: number;
    beforeEach(async () => {
      store = subject.store();
      clientId = await addClient(store);
      await store.createUser(newUser({ username: 'root', isAdmin: true }));
      userId = (await store.findUserByUsername('root'))!.id;
    });

    /** A grant of `scope` to root, with its first access and refresh token. */
    async function grantOf(scope: string[]) {
      const id = randomUUID();
      const access = newAccess(T, scope);
      const refresh = newRefresh(T);
      const grant = { id, clientId, userId, scope, createdAt: T };
      expect(await store.issueTokens({ grant, access, refresh })).toBe('issued');
      return { id, access, refresh };
    }

    async function expectRevoked(g: Awaited<ReturnType<typeof grantOf>>, at: number | null) {
      expect((await store.findRefreshToken(g.refresh.hash))?.revokedAt).toBe(at);
      expect((await store.findAccessToken(g.access.hash))?.revokedAt).toBe(at);
    }

    it('revokes the grants holding oauthd:admin or oauthd:admin:read, and no other', async () => {
      const admin = await grantOf(['read', 'oauthd:admin']);
      const reader = await grantOf(['oauthd:admin:read']);
      const plain = await grantOf(['read', 'write']);
      // Whole words only: neither of these is an admin scope.
      const lookalike = await grantOf(['oauthd:administrator', 'x-oauthd:admin', 'OAUTHD:ADMIN']);
      const update = await store.updateUser('root', { isAdmin: false }, { now: T + 5 });
      expect(update).toMatchObject({ status: 'updated', user: { isAdmin: false, version: 2 } });
      expect(update.status === 'updated' && [...(update.revokedGrants ?? [])].sort()).toEqual(
        [admin.id, reader.id].sort(),
      );
      await expectRevoked(admin, T + 5);
      await expectRevoked(reader, T + 5);
      await expectRevoked(plain, null);
      await expectRevoked(lookalike, null);
      expect((await store.listUserGrants(userId, T + 6)).map((g) => g.grantId).sort()).toEqual(
        [plain.id, lookalike.id].sort(),
      );
    });

    it('cancels the unused codes and approved device codes holding an admin scope, and no other', async () => {
      const adminCode = newCode(clientId, userId, { scope: ['oauthd:admin'] }).record;
      const plainCode = newCode(clientId, userId, { scope: ['read'] }).record;
      await store.createAuthorizationCode(adminCode);
      await store.createAuthorizationCode(plainCode);
      const device = newDevice(clientId, { scope: ['read', 'oauthd:admin:read'] }).record;
      await store.createDeviceCode(device);
      expect(await store.decideDeviceCode(device.hash, { approved: true, userId, now: T + 1 })).toBe(true);
      await store.updateUser('root', { isAdmin: false }, { now: T + 5 });
      expect(await store.redeemAuthorizationCode(redemption(adminCode, T + 10))).toEqual({ outcome: 'not_found' });
      expect(await store.redeemAuthorizationCode(redemption(plainCode, T + 10))).toEqual({ outcome: 'redeemed' });
      expect((await store.pollDeviceCode(device.hash, clientId, (T + 10) * 1000))?.record.status).toBe('denied');
    });

    it('revokes nothing when the flag is given, kept or left out', async () => {
      const admin = await grantOf(['oauthd:admin']);
      const kept = await store.updateUser('root', { isAdmin: true, username: 'boss' }, { now: T + 1 });
      expect(kept).toMatchObject({ status: 'updated', user: { isAdmin: true } });
      expect(kept).not.toHaveProperty('revokedGrants');
      await store.createUser(newUser({ username: 'plain' }));
      const promoted = await store.updateUser('plain', { isAdmin: true }, { now: T + 2 });
      expect(promoted).toMatchObject({ status: 'updated', user: { isAdmin: true } });
      expect(promoted).not.toHaveProperty('revokedGrants');
      await expectRevoked(admin, null);
    });

    it('a stale version takes nothing and revokes nothing', async () => {
      const admin = await grantOf(['oauthd:admin']);
      const stale = await store.updateUser('root', { isAdmin: false }, { now: T + 1, ifVersion: 7 });
      expect(stale).toEqual({ status: 'version_mismatch' });
      await expectRevoked(admin, null);
    });

    it('demoting and disabling at once revokes everything, naming the admin-scoped grants', async () => {
      const admin = await grantOf(['oauthd:admin']);
      const plain = await grantOf(['read']);
      const update = await store.updateUser('root', { isAdmin: false, isActive: false }, { now: T + 3 });
      expect(update).toMatchObject({ status: 'updated', revokedGrants: [admin.id] });
      await expectRevoked(admin, T + 3);
      await expectRevoked(plain, T + 3);
    });
  });
}

function impossibleVersionContract(subject: ContractSubject): void {
  describe('admin: an ifVersion no column can hold matches nothing', () => {
    let store: Store;
    beforeEach(() => {
      store = subject.store();
    });

    it('updateClient and deleteClient answer version_mismatch and change nothing', async () => {
      const id = await addClient(store);
      for (const ifVersion of IMPOSSIBLE_VERSIONS) {
        expect(await store.updateClient(id, { name: 'lost' }, T + 1, { ifVersion }), String(ifVersion)).toBe(
          'version_mismatch',
        );
        expect(await store.deleteClient(id, { ifVersion }), String(ifVersion)).toBe('version_mismatch');
      }
      expect(await store.findClient(id)).toMatchObject({ name: 'c', version: 1 });
      expect(await store.updateClient('no-such-client', { name: 'x' }, T + 1, { ifVersion: Number.NaN })).toBeNull();
      expect(await store.deleteClient('no-such-client', { ifVersion: 2 ** 31 })).toBe(false);
    });

    it('updateUser and deleteUser answer version_mismatch and change nothing', async () => {
      const { username } = await addUser(store);
      for (const ifVersion of IMPOSSIBLE_VERSIONS) {
        const update = await store.updateUser(username, { isAdmin: true }, { now: T + 1, ifVersion });
        expect(update, String(ifVersion)).toEqual({ status: 'version_mismatch' });
        expect(await store.deleteUser(username, T + 1, { ifVersion }), String(ifVersion)).toBe('version_mismatch');
      }
      expect(await store.findUserByUsername(username)).toMatchObject({ isAdmin: false, version: 1 });
    });
  });
}
