/**
 * The AuthorizationStore contract, continued: browser sessions, consents, what goes with a deleted user or
 * client, and the cleanup of migration 8's tables.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { NewBrowserSession } from '../../src/core/authorization-ports.js';
import type { Store } from '../../src/core/ports.js';
import { expectKeysOnly, newCode, newDevice, secret, type AuthorizationSubject } from './authorization-fixtures.js';
import { T, addClient, addUser } from './fixtures.js';

export function sessionAndConsentContract(subject: AuthorizationSubject): void {
  describe('sign-in sessions and consents', () => {
    let store: Store;
    let user: { id: number; username: string };
    beforeEach(async () => {
      store = subject.store();
      user = await addUser(store);
    });

    /** A session of `userId` created at T, live for an hour unless told; its plaintext token and key. */
    async function session(userId: number, overrides: Partial<NewBrowserSession> = {}) {
      const token = secret();
      const s: NewBrowserSession = { hash: token.key, userId, createdAt: T, expiresAt: T + 3600, ...overrides };
      await store.createBrowserSession(s);
      return { ...s, plain: token.plain };
    }

    describe('browser sessions', () => {
      it('findBrowserSession finds a live session with its user, and nothing once expired or ended', async () => {
        const s = await session(user.id);
        const found = { userId: user.id, username: user.username, createdAt: T, expiresAt: T + 3600 };
        expect(await store.findBrowserSession(s.hash, T + 3599)).toEqual(found);
        expect(await store.findBrowserSession(s.hash, T + 3600)).toBeNull();
        expect(await store.findBrowserSession(secret().key, T)).toBeNull();
        await store.endBrowserSession(s.hash, T + 10);
        await store.endBrowserSession(s.hash, T + 20); // idempotent: the first end is kept
        expect(await store.findBrowserSession(s.hash, T + 30)).toBeNull();
        const [row] = await subject.readTable('browser_sessions');
        expect(Number(row!.ended_at)).toBe(T + 10);
      });

      it('stores the session as its key only', async () => {
        const a = await session(user.id);
        const b = await session(user.id);
        await expectKeysOnly(subject.readTable, 'browser_sessions', 'hash', [a.hash, b.hash], [a.plain, b.plain]);
      });

      it('a session of a disabled user is not found; disabling ends its sessions for good', async () => {
        const s = await session(user.id);
        const other = await session((await addUser(store)).id);
        expect(await store.setUserActive(user.username, false, T + 5)).toBe(true);
        expect(await store.findBrowserSession(s.hash, T + 6)).toBeNull();
        expect(await store.listUserBrowserSessions(user.id, T + 6)).toEqual([]);
        await store.setUserActive(user.username, true, T + 7);
        expect(await store.findBrowserSession(s.hash, T + 8)).toBeNull();
        const rows = await subject.readTable('browser_sessions');
        const endedAt = (hash: Buffer) => rows.find((r) => Buffer.from(r.hash as Uint8Array).equals(hash))!.ended_at;
        expect(Number(endedAt(s.hash))).toBe(T + 5);
        expect(endedAt(other.hash)).toBeNull();
        expect(await store.findBrowserSession(other.hash, T + 8)).not.toBeNull();
      });

      it('a password reset that revokes grants ends sign-in sessions too; one that does not keeps them', async () => {
        const s = await session(user.id);
        expect(await store.setUserPassword(user.username, 'h2', { revokeGrants: false, now: T + 5 })).toBe(true);
        expect(await store.findBrowserSession(s.hash, T + 6)).not.toBeNull();
        expect(await store.setUserPassword(user.username, 'h3', { revokeGrants: true, now: T + 7 })).toBe(true);
        expect(await store.findBrowserSession(s.hash, T + 8)).toBeNull();
        expect(await store.listUserBrowserSessions(user.id, T + 8)).toEqual([]);
      });

      it('lists a user’s live sessions, each named by the first 8 hex characters of its key', async () => {
        const a = await session(user.id, { createdAt: T });
        const b = await session(user.id, { createdAt: T + 1, expiresAt: T + 7200 });
        const ended = await session(user.id);
        await store.endBrowserSession(ended.hash, T + 2);
        await session(user.id, { expiresAt: T + 100 });
        await session((await addUser(store)).id);
        expect(await store.listUserBrowserSessions(user.id, T + 100)).toEqual([
          { id: a.hash.toString('hex').slice(0, 8), createdAt: T, expiresAt: T + 3600 },
          { id: b.hash.toString('hex').slice(0, 8), createdAt: T + 1, expiresAt: T + 7200 },
        ]);
      });

      it('endUserBrowserSessions ends the user’s live sessions only, and says how many', async () => {
        const a = await session(user.id);
        const b = await session(user.id);
        await session(user.id, { expiresAt: T + 10 });
        const other = await session((await addUser(store)).id);
        expect(await store.endUserBrowserSessions(user.id, T + 10)).toBe(2);
        expect(await store.endUserBrowserSessions(user.id, T + 11)).toBe(0);
        expect(await store.findBrowserSession(a.hash, T + 12)).toBeNull();
        expect(await store.findBrowserSession(b.hash, T + 12)).toBeNull();
        expect(await store.findBrowserSession(other.hash, T + 12)).not.toBeNull();
      });
    });

    describe('consents', () => {
      it('recordConsent keeps the sorted union of every scope consented to; findConsent returns it', async () => {
        const clientId = await addClient(store);
        expect(await store.findConsent(user.id, clientId)).toBeNull();
        await store.recordConsent(user.id, clientId, ['write', 'read'], T);
        expect(await store.findConsent(user.id, clientId)).toEqual(['read', 'write']);
        await store.recordConsent(user.id, clientId, ['profile', 'read'], T + 10);
        expect(await store.findConsent(user.id, clientId)).toEqual(['profile', 'read', 'write']);
        expect(await store.listUserConsents(user.id)).toEqual([
          { clientId, scope: ['profile', 'read', 'write'], createdAt: T, updatedAt: T + 10 },
        ]);
        expect(await store.findConsent((await addUser(store)).id, clientId)).toBeNull();
      });

      it('concurrent consents of one user to one client all count: the union of them all', async () => {
        const clientId = await addClient(store);
        const scopes = ['a', 'b', 'c', 'd', 'e', 'f'];
        await Promise.all(scopes.map((s, i) => store.recordConsent(user.id, clientId, [s], T + i)));
        expect(await store.findConsent(user.id, clientId)).toEqual(scopes);
      });

      it('listUserConsents is ordered by client id; revokeUserConsents forgets one client’s or all', async () => {
        const [b, a, c] = [await addClient(store, 'client-b'), await addClient(store, 'client-a'), 'client-c'];
        await addClient(store, c);
        for (const clientId of [b, a, c]) await store.recordConsent(user.id, clientId, ['read'], T);
        const other = await addUser(store);
        await store.recordConsent(other.id, a, ['read'], T);
        expect((await store.listUserConsents(user.id)).map((x) => x.clientId)).toEqual([a, b, c]);
        expect(await store.revokeUserConsents(user.id, { clientId: b })).toEqual([b]);
        expect(await store.revokeUserConsents(user.id, { clientId: b })).toEqual([]);
        expect(await store.revokeUserConsents(user.id, {})).toEqual([a, c]);
        expect(await store.listUserConsents(user.id)).toEqual([]);
        expect(await store.findConsent(other.id, a)).toEqual(['read']);
      });

      it('a consent to a client deleted before it was written is not written', async () => {
        const clientId = await addClient(store);
        await store.deleteClient(clientId);
        await store.recordConsent(user.id, clientId, ['read'], T);
        expect(await store.listUserConsents(user.id)).toEqual([]);
      });
    });

    describe('what goes with a deleted user or client', () => {
      /** A code, an approved device code, a session and a consent of `userId` with `clientId`. */
      async function everything(clientId: string, userId: number) {
        await store.createAuthorizationCode(newCode(clientId, userId).record);
        const device = newDevice(clientId).record;
        await store.createDeviceCode(device);
        await store.decideDeviceCode(device.hash, { approved: true, userId, now: T });
        await session(userId);
        await store.recordConsent(userId, clientId, ['read'], T);
      }
      const count = async (table: string) => (await subject.readTable(table)).length;
      const counts = async () => ({
        codes: await count('authorization_codes'),
        devices: await count('device_codes'),
        sessions: await count('browser_sessions'),
        consents: await count('consents'),
      });

      it('deleting a user removes its codes, the device codes it decided, its sessions and consents', async () => {
        const clientId = await addClient(store);
        const other = await addUser(store);
        await everything(clientId, user.id);
        await everything(clientId, other.id);
        expect(await counts()).toEqual({ codes: 2, devices: 2, sessions: 2, consents: 2 });
        expect(await store.deleteUser(user.username, T + 1)).not.toBeNull();
        expect(await counts()).toEqual({ codes: 1, devices: 1, sessions: 1, consents: 1 });
        expect(await store.findConsent(other.id, clientId)).toEqual(['read']);
      });

      it('deleting a client removes its codes, device codes and consents, not the users’ sessions', async () => {
        const clientId = await addClient(store);
        const kept = await addClient(store);
        await everything(clientId, user.id);
        await everything(kept, user.id);
        expect(await store.deleteClient(clientId)).toBe(true);
        expect(await counts()).toEqual({ codes: 1, devices: 1, sessions: 2, consents: 1 });
        expect((await store.listUserConsents(user.id)).map((c) => c.clientId)).toEqual([kept]);
      });
    });

    describe('deleteExpired (migration 8 tables)', () => {
      const RETENTION = 3600;
      const NOW = T + 100_000;
      const OLD = NOW - RETENTION - 1; // expired (or ended) more than the retention ago
      const RECENT = NOW - RETENTION + 1;

      it(
        'removes codes, device codes and sessions expired or ended more than the retention ago, at most limit of ' +
          'each kind per call, and counts them',
        async () => {
          const clientId = await addClient(store);
          for (const expiresAt of [OLD, OLD, OLD, RECENT]) {
            await store.createAuthorizationCode(newCode(clientId, user.id, { expiresAt }).record);
            await store.createDeviceCode(newDevice(clientId, { expiresAt }).record);
          }
          await session(user.id, { expiresAt: OLD });
          const endedLongAgo = await session(user.id, { expiresAt: NOW + 3600 });
          await store.endBrowserSession(endedLongAgo.hash, OLD);
          const endedRecently = await session(user.id, { expiresAt: NOW + 3600 });
          await store.endBrowserSession(endedRecently.hash, RECENT);
          const live = await session(user.id, { expiresAt: NOW + 3600 });
          await store.recordConsent(user.id, clientId, ['read'], T);

          const clean = () => store.deleteExpired({ now: NOW, retentionSeconds: RETENTION, limit: 2 });
          expect(await clean()).toBe(2 + 2 + 2);
          expect(await clean()).toBe(1 + 1);
          expect(await clean()).toBe(0);
          const rows = await subject.readTable('authorization_codes');
          expect(rows.map((r) => Number(r.expires_at))).toEqual([RECENT]);
          expect((await subject.readTable('device_codes')).map((r) => Number(r.expires_at))).toEqual([RECENT]);
          const sessions = (await subject.readTable('browser_sessions')).map((r) => Buffer.from(r.hash as Uint8Array));
          expect(sessions.map((h) => h.toString('hex')).sort()).toEqual(
            [endedRecently.hash, live.hash].map((h) => h.toString('hex')).sort(),
          );
          expect(await store.findConsent(user.id, clientId)).toEqual(['read']);
        },
      );
    });
  });
}
