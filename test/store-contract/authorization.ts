/**
 * The AuthorizationStore contract (src/core/authorization-ports.ts): authorization codes and device codes
 * here, browser sessions, consents, cascades and the cleanup in authorization-sessions.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { expectKeysOnly, newCode, newDevice, redemption, type AuthorizationSubject } from './authorization-fixtures.js';
import { sessionAndConsentContract } from './authorization-sessions.js';
import { T, addClient, addUser, newAccess, newRefresh } from './fixtures.js';

export function authorizationContract(subject: AuthorizationSubject): void {
  authorizationCodeContract(subject);
  deviceCodeContract(subject);
  sessionAndConsentContract(subject);
}

function authorizationCodeContract(subject: AuthorizationSubject): void {
  describe('authorization codes', () => {
    let store: Store;
    let clientId: string;
    let user: { id: number; username: string };
    beforeEach(async () => {
      store = subject.store();
      clientId = await addClient(store);
      user = await addUser(store);
    });

    it('findAuthorizationCode returns the code as written, joined with its user; null for an unknown key', async () => {
      const { record } = newCode(clientId, user.id);
      await store.createAuthorizationCode(record);
      const { hash: _hash, ...fields } = record;
      expect(await store.findAuthorizationCode(record.hash)).toEqual({
        ...fields,
        username: user.username,
        userIsActive: true,
        usedAt: null,
        grantId: null,
      });
      expect(await store.findAuthorizationCode(newCode(clientId, user.id).record.hash)).toBeNull();
      // Without PKCE (`--pkce optional`), and for a disabled user.
      const plain = newCode(clientId, user.id, { codeChallenge: null, codeChallengeMethod: null }).record;
      await store.createAuthorizationCode(plain);
      await store.setUserActive(user.username, false, T + 1);
      expect(await store.findAuthorizationCode(plain.hash)).toMatchObject({
        codeChallenge: null,
        codeChallengeMethod: null,
        userIsActive: false,
      });
    });

    it('stores the code as its key only, never the plaintext', async () => {
      const a = newCode(clientId, user.id);
      const b = newCode(clientId, user.id);
      await store.createAuthorizationCode(a.record);
      await store.createAuthorizationCode(b.record);
      await expectKeysOnly(
        subject.readTable,
        'authorization_codes',
        'hash',
        [a.record.hash, b.record.hash],
        [a.plain, b.plain],
      );
    });

    it('a code for a client deleted before it was written is not written', async () => {
      const gone = await addClient(store);
      await store.deleteClient(gone);
      const { record } = newCode(gone, user.id);
      await store.createAuthorizationCode(record);
      expect(await store.findAuthorizationCode(record.hash)).toBeNull();
    });

    it(
      'redeemAuthorizationCode marks the code used and writes an authorization_code grant with its tokens, ' +
        'atomically',
      async () => {
        const { record } = newCode(clientId, user.id);
        await store.createAuthorizationCode(record);
        const r = redemption(record, T + 10);
        expect(await store.redeemAuthorizationCode(r)).toEqual({ outcome: 'redeemed' });
        expect(await store.findAuthorizationCode(record.hash)).toMatchObject({ usedAt: T + 10, grantId: r.grantId });
        expect(await store.findAccessToken(r.access.hash)).toMatchObject({
          grantId: r.grantId,
          clientId,
          userId: user.id,
          username: user.username,
          revokedAt: null,
        });
        expect(await store.findRefreshToken(r.refresh!.hash)).toMatchObject({
          grantId: r.grantId,
          userId: user.id,
          grantType: 'authorization_code',
          grantCreatedAt: T + 10,
          usedAt: null,
        });
        expect((await store.listUserGrants(user.id, T + 10)).map((g) => g.grantId)).toEqual([r.grantId]);
      },
    );

    it('a redemption without a refresh token writes the grant and its access token only', async () => {
      const { record } = newCode(clientId, user.id);
      await store.createAuthorizationCode(record);
      const r = redemption(record, T + 10, { refresh: null });
      expect(await store.redeemAuthorizationCode(r)).toEqual({ outcome: 'redeemed' });
      expect(await store.findAccessToken(r.access.hash)).toMatchObject({ grantId: r.grantId });
      expect(await subject.readTable('refresh_tokens')).toEqual([]);
    });

    it(
      'a code presented again is reused: nothing new is written and the grant of its first exchange is revoked ' +
        '(RFC 6749 §4.1.2)',
      async () => {
        const { record } = newCode(clientId, user.id);
        await store.createAuthorizationCode(record);
        const first = redemption(record, T + 10);
        await store.redeemAuthorizationCode(first);
        // Read once before the reuse: a backend that keeps what it read must forget it when the grant is revoked.
        expect((await store.findAccessToken(first.access.hash))?.revokedAt).toBeNull();
        const again = redemption(record, T + 20);
        expect(await store.redeemAuthorizationCode(again)).toEqual({ outcome: 'reused', grantId: first.grantId });
        expect((await store.findAccessToken(first.access.hash))?.revokedAt).toBe(T + 20);
        expect((await store.findRefreshToken(first.refresh!.hash))?.revokedAt).toBe(T + 20);
        expect(await store.findAccessToken(again.access.hash)).toBeNull();
        // Reuse is told even after the code expired: the grant stays revoked, the first revocation kept.
        expect(await store.redeemAuthorizationCode(redemption(record, T + 500))).toEqual({
          outcome: 'reused',
          grantId: first.grantId,
        });
        expect((await store.findAccessToken(first.access.hash))?.revokedAt).toBe(T + 20);
        expect(await store.findAuthorizationCode(record.hash)).toMatchObject({ usedAt: T + 10 });
      },
    );

    it('an expired, unused code is expired, an unknown one not_found; neither writes anything', async () => {
      const { record } = newCode(clientId, user.id, { expiresAt: T + 60 });
      await store.createAuthorizationCode(record);
      const late = redemption(record, T + 60);
      expect(await store.redeemAuthorizationCode(late)).toEqual({ outcome: 'expired' });
      const unknown = redemption(newCode(clientId, user.id).record, T + 10);
      expect(await store.redeemAuthorizationCode(unknown)).toEqual({ outcome: 'not_found' });
      expect(await store.findAuthorizationCode(record.hash)).toMatchObject({ usedAt: null, grantId: null });
      expect(await store.findAccessToken(late.access.hash)).toBeNull();
      expect(await store.findAccessToken(unknown.access.hash)).toBeNull();
      // Unexpired one second earlier.
      expect(await store.redeemAuthorizationCode(redemption(record, T + 59))).toEqual({ outcome: 'redeemed' });
    });

    it('a code presented for another client or user is not_found, and stays unused', async () => {
      const other = await addClient(store);
      const otherUser = await addUser(store);
      const { record } = newCode(clientId, user.id);
      await store.createAuthorizationCode(record);
      const r = redemption(record, T + 10);
      expect(await store.redeemAuthorizationCode({ ...r, grant: { ...r.grant, clientId: other } })).toEqual({
        outcome: 'not_found',
      });
      expect(await store.redeemAuthorizationCode({ ...r, grant: { ...r.grant, userId: otherUser.id } })).toEqual({
        outcome: 'not_found',
      });
      expect(await store.findAuthorizationCode(record.hash)).toMatchObject({ usedAt: null });
      expect(await store.findAccessToken(r.access.hash)).toBeNull();
    });

    it('a redemption for a client deleted meanwhile is client_gone and writes nothing', async () => {
      const { record } = newCode(clientId, user.id);
      await store.createAuthorizationCode(record);
      await store.deleteClient(clientId);
      const r = redemption(record, T + 10);
      expect(await store.redeemAuthorizationCode(r)).toEqual({ outcome: 'client_gone' });
      expect(await store.findAccessToken(r.access.hash)).toBeNull();
      expect(await subject.readTable('grants')).toEqual([]);
    });

    it(
      'of eight concurrent redemptions of one code exactly one is redeemed; the others are reuse, which ' +
        'revokes the grant the winner wrote',
      async () => {
        const { record } = newCode(clientId, user.id);
        await store.createAuthorizationCode(record);
        const second = subject.openSecond ? await subject.openSecond() : null;
        try {
          const attempts = Array.from({ length: 8 }, () => redemption(record, T + 10));
          const results = await Promise.all(
            attempts.map((r, i) => (second && i % 2 ? second : store).redeemAuthorizationCode(r)),
          );
          const winners = attempts.filter((_, i) => results[i]!.outcome === 'redeemed');
          expect(winners).toHaveLength(1);
          const winner = winners[0]!;
          const losers = results.filter((r) => r.outcome !== 'redeemed');
          expect(losers).toEqual(Array.from({ length: 7 }, () => ({ outcome: 'reused', grantId: winner.grantId })));
          expect((await store.findAccessToken(winner.access.hash))?.revokedAt).toBe(T + 10);
          expect(await subject.readTable('grants')).toHaveLength(1);
          expect(await subject.readTable('access_tokens')).toHaveLength(1);
        } finally {
          await second?.close();
        }
      },
    );
  });
}

function deviceCodeContract(subject: AuthorizationSubject): void {
  describe('device codes', () => {
    let store: Store;
    let clientId: string;
    let user: { id: number; username: string };
    beforeEach(async () => {
      store = subject.store();
      clientId = await addClient(store);
      user = await addUser(store);
    });

    /** A device code approved by `user`, and the redemption of it at `now`. */
    async function approved(now = T + 30) {
      const { record } = newDevice(clientId);
      await store.createDeviceCode(record);
      expect(await store.decideDeviceCode(record.hash, { approved: true, userId: user.id, now: T + 20 })).toBe(true);
      const grantId = `grant-${record.hash.toString('hex').slice(0, 12)}`;
      const redeem = {
        hash: record.hash,
        grant: { id: grantId, clientId, userId: user.id, scope: record.scope, createdAt: now },
        access: newAccess(now),
        refresh: newRefresh(now),
        now,
      };
      return { record, redeem };
    }

    it('findPendingDeviceCode finds a pending, unexpired code by its user code key, with its own key', async () => {
      const { record } = newDevice(clientId);
      expect(await store.createDeviceCode(record)).toBe('created');
      expect(await store.findPendingDeviceCode(record.userCodeHash, T + 1)).toEqual({
        hash: record.hash,
        clientId,
        scope: ['read'],
        status: 'pending',
        userId: null,
        issuedAt: T,
        expiresAt: T + 600,
        intervalSeconds: 5,
      });
      expect(await store.findPendingDeviceCode(record.userCodeHash, T + 600)).toBeNull();
      expect(await store.findPendingDeviceCode(newDevice(clientId).record.userCodeHash, T + 1)).toBeNull();
      await store.decideDeviceCode(record.hash, { approved: false, userId: user.id, now: T + 2 });
      expect(await store.findPendingDeviceCode(record.userCodeHash, T + 3)).toBeNull();
    });

    it('createDeviceCode answers user_code_taken when the user code is in use, and keeps the first', async () => {
      const first = newDevice(clientId).record;
      await store.createDeviceCode(first);
      const clash = newDevice(clientId, { userCodeHash: first.userCodeHash }).record;
      expect(await store.createDeviceCode(clash)).toBe('user_code_taken');
      expect((await store.findPendingDeviceCode(first.userCodeHash, T + 1))?.hash).toEqual(first.hash);
      expect(await store.pollDeviceCode(clash.hash, clientId, T * 1000)).toBeNull();
    });

    it('stores the device code and the user code as keys only', async () => {
      const a = newDevice(clientId);
      await store.createDeviceCode(a.record);
      await expectKeysOnly(subject.readTable, 'device_codes', 'hash', [a.record.hash], [a.plain, 'WDJBMJHT']);
      await expectKeysOnly(subject.readTable, 'device_codes', 'user_code_hash', [a.record.userCodeHash], [a.plain]);
    });

    it('decideDeviceCode decides a pending, unexpired code once; false otherwise', async () => {
      const { record } = newDevice(clientId);
      await store.createDeviceCode(record);
      const decision = { approved: true, userId: user.id, now: T + 10 };
      expect(await store.decideDeviceCode(record.hash, decision)).toBe(true);
      expect(await store.decideDeviceCode(record.hash, { ...decision, approved: false })).toBe(false);
      expect((await store.pollDeviceCode(record.hash, clientId, T * 1000))?.record).toMatchObject({
        status: 'approved',
        userId: user.id,
      });
      const late = newDevice(clientId).record;
      await store.createDeviceCode(late);
      expect(await store.decideDeviceCode(late.hash, { ...decision, now: T + 600 })).toBe(false);
      const denied = newDevice(clientId).record;
      await store.createDeviceCode(denied);
      expect(await store.decideDeviceCode(denied.hash, { ...decision, approved: false })).toBe(true);
      expect((await store.pollDeviceCode(denied.hash, clientId, T * 1000))?.record).toMatchObject({
        status: 'denied',
        userId: user.id,
      });
      expect(await store.decideDeviceCode(newDevice(clientId).record.hash, decision)).toBe(false);
    });

    it(
      'pollDeviceCode judges each poll against the previous one to the millisecond, adding 5 s to the interval ' +
        'when too soon (RFC 8628 §3.5); null for an unknown code or another client',
      async () => {
        const { record } = newDevice(clientId, { intervalSeconds: 5 });
        await store.createDeviceCode(record);
        const at = T * 1000;
        const poll = (ms: number) => store.pollDeviceCode(record.hash, clientId, ms);
        expect(await poll(at)).toMatchObject({ tooSoon: false, record: { intervalSeconds: 5, status: 'pending' } });
        expect(await poll(at + 4_999)).toMatchObject({ tooSoon: true, record: { intervalSeconds: 10 } });
        expect(await poll(at + 4_999 + 9_999)).toMatchObject({ tooSoon: true, record: { intervalSeconds: 15 } });
        expect(await poll(at + 4_999 + 9_999 + 15_000)).toMatchObject({
          tooSoon: false,
          record: { intervalSeconds: 15 },
        });
        // Expiry is the core's to judge: a poll after it is still recorded and answered.
        expect(await poll((T + 700) * 1000)).toMatchObject({ tooSoon: false, record: { expiresAt: T + 600 } });
        expect(await store.pollDeviceCode(record.hash, await addClient(store), at)).toBeNull();
        expect(await store.pollDeviceCode(newDevice(clientId).record.hash, clientId, at)).toBeNull();
      },
    );

    it('concurrent polls of one code: each judged against the one before, one in time, the rest too soon', async () => {
      const { record } = newDevice(clientId, { intervalSeconds: 5 });
      await store.createDeviceCode(record);
      const polls = await Promise.all(
        Array.from({ length: 6 }, () => store.pollDeviceCode(record.hash, clientId, T * 1000)),
      );
      expect(polls.filter((p) => p?.tooSoon === false)).toHaveLength(1);
      expect(polls.map((p) => p!.record.intervalSeconds).sort((a, b) => a - b)).toEqual([5, 10, 15, 20, 25, 30]);
    });

    it('redeemDeviceCode turns an approved code into a device-code grant of the approver, once', async () => {
      const { record, redeem } = await approved();
      expect(await store.redeemDeviceCode(redeem)).toBe('redeemed');
      expect(await store.findRefreshToken(redeem.refresh.hash)).toMatchObject({
        grantId: redeem.grant.id,
        clientId,
        userId: user.id,
        username: user.username,
        grantType: DEVICE_CODE_GRANT,
      });
      expect(await store.findAccessToken(redeem.access.hash)).toMatchObject({ grantId: redeem.grant.id });
      expect((await store.pollDeviceCode(record.hash, clientId, T * 1000))?.record.status).toBe('used');
      const again = { ...redeem, grant: { ...redeem.grant, id: 'another-grant' }, access: newAccess(T + 31) };
      expect(await store.redeemDeviceCode(again)).toBe('not_approved');
      expect(await store.findAccessToken(again.access.hash)).toBeNull();
    });

    it('redeemDeviceCode is not_approved for a pending, denied, expired or other user’s code', async () => {
      const pending = newDevice(clientId).record;
      await store.createDeviceCode(pending);
      const { redeem } = await approved();
      expect(await store.redeemDeviceCode({ ...redeem, hash: pending.hash })).toBe('not_approved');
      const other = await addUser(store);
      expect(await store.redeemDeviceCode({ ...redeem, grant: { ...redeem.grant, userId: other.id } })).toBe(
        'not_approved',
      );
      expect(await store.redeemDeviceCode({ ...redeem, now: T + 600 })).toBe('not_approved');
      const denied = newDevice(clientId).record;
      await store.createDeviceCode(denied);
      await store.decideDeviceCode(denied.hash, { approved: false, userId: user.id, now: T + 1 });
      expect(await store.redeemDeviceCode({ ...redeem, hash: denied.hash })).toBe('not_approved');
      expect(await subject.readTable('grants')).toEqual([]);
      // Still approved and unexpired: redeemable.
      expect(await store.redeemDeviceCode(redeem)).toBe('redeemed');
    });

    it('redeemDeviceCode is not_approved once the approver was disabled, and writes nothing', async () => {
      const { redeem } = await approved();
      await store.setUserActive(user.username, false, T + 2);
      expect(await store.redeemDeviceCode(redeem)).toBe('not_approved');
      expect(await subject.readTable('grants')).toEqual([]);
    });

    it('redeemDeviceCode for a deleted client is client_gone and writes nothing', async () => {
      const { redeem } = await approved();
      await store.deleteClient(clientId);
      expect(await store.redeemDeviceCode(redeem)).toBe('client_gone');
      expect(await subject.readTable('grants')).toEqual([]);
    });

    it('of eight concurrent redemptions of one approved code exactly one is redeemed', async () => {
      const { redeem } = await approved();
      const second = subject.openSecond ? await subject.openSecond() : null;
      try {
        const attempts = Array.from({ length: 8 }, (_, i) => ({
          ...redeem,
          grant: { ...redeem.grant, id: `${redeem.grant.id}-${i}` },
          access: newAccess(T + 30),
          refresh: newRefresh(T + 30),
        }));
        const results = await Promise.all(
          attempts.map((r, i) => (second && i % 2 ? second : store).redeemDeviceCode(r)),
        );
        expect(results.filter((r) => r === 'redeemed')).toHaveLength(1);
        expect(results.filter((r) => r === 'not_approved')).toHaveLength(7);
        expect(await subject.readTable('grants')).toHaveLength(1);
        expect(await subject.readTable('access_tokens')).toHaveLength(1);
      } finally {
        await second?.close();
      }
    });
  });
}
