/**
 * The AuthorizationStore contract, continued: revoking a user's grants (`user revoke`, a password reset with
 * revocation, disabling) also cancels what would otherwise become a grant afterwards — codes not yet exchanged,
 * device codes approved but not yet redeemed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { newCode, newDevice, redemption, type AuthorizationSubject } from './authorization-fixtures.js';
import { T, addClient, addUser, newAccess, newRefresh } from './fixtures.js';

export function pendingAuthorizationContract(subject: AuthorizationSubject): void {
  describe('revoking a user cancels its pending codes and approved device codes', () => {
    let store: Store;
    let clientId: string;
    let otherClientId: string;
    let user: { id: number; username: string };
    beforeEach(async () => {
      store = subject.store();
      clientId = await addClient(store);
      otherClientId = await addClient(store);
      user = await addUser(store);
    });

    /** An unused code and an approved device code of `client` for `user`, and how each would be redeemed. */
    async function pending(client: string) {
      const code = newCode(client, user.id).record;
      await store.createAuthorizationCode(code);
      const device = newDevice(client).record;
      await store.createDeviceCode(device);
      expect(await store.decideDeviceCode(device.hash, { approved: true, userId: user.id, now: T + 1 })).toBe(true);
      const grant = { id: `device-${device.hash.toString('hex').slice(0, 12)}`, clientId: client, userId: user.id };
      const deviceRedemption = {
        hash: device.hash,
        grant: { ...grant, scope: device.scope, createdAt: T + 10 },
        access: newAccess(T + 10),
        refresh: newRefresh(T + 10),
        now: T + 10,
      };
      return { code, device, deviceRedemption };
    }

    async function expectCancelled(p: Awaited<ReturnType<typeof pending>>) {
      expect(await store.redeemAuthorizationCode(redemption(p.code, T + 10))).toEqual({ outcome: 'not_found' });
      expect(await store.redeemDeviceCode(p.deviceRedemption)).toBe('not_approved');
      expect((await store.pollDeviceCode(p.device.hash, p.device.clientId, (T + 10) * 1000))?.record.status).toBe(
        'denied',
      );
    }

    it('revokeUserGrants without a client cancels every one', async () => {
      const [a, b] = [await pending(clientId), await pending(otherClientId)];
      await store.revokeUserGrants(user.id, { now: T + 5 });
      await expectCancelled(a);
      await expectCancelled(b);
    });

    it('revokeUserGrants of one client cancels that client’s only', async () => {
      const [a, b] = [await pending(clientId), await pending(otherClientId)];
      await store.revokeUserGrants(user.id, { clientId, now: T + 5 });
      await expectCancelled(a);
      expect(await store.redeemAuthorizationCode(redemption(b.code, T + 10))).toEqual({ outcome: 'redeemed' });
      expect(await store.redeemDeviceCode(b.deviceRedemption)).toBe('redeemed');
    });

    it('a password reset that revokes grants cancels them; one that keeps them does not', async () => {
      const kept = await pending(clientId);
      await store.setUserPassword(user.username, 'h2', { revokeGrants: false, now: T + 5 });
      expect(await store.redeemAuthorizationCode(redemption(kept.code, T + 10))).toEqual({ outcome: 'redeemed' });
      const revoked = await pending(clientId);
      await store.setUserPassword(user.username, 'h3', { revokeGrants: true, now: T + 6 });
      await expectCancelled(revoked);
    });

    it('disabling the user cancels them, and enabling it again brings none back', async () => {
      const p = await pending(clientId);
      await store.setUserActive(user.username, false, T + 5);
      await store.setUserActive(user.username, true, T + 6);
      await expectCancelled(p);
    });

    it('leaves other users’ pending codes alone', async () => {
      const other = await addUser(store);
      const theirs = newCode(clientId, other.id).record;
      await store.createAuthorizationCode(theirs);
      await pending(clientId);
      await store.revokeUserGrants(user.id, { now: T + 5 });
      expect(await store.redeemAuthorizationCode(redemption(theirs, T + 10))).toEqual({ outcome: 'redeemed' });
    });
  });
}
