/** The LockoutStore contract (src/core/ports.ts): `oauthd lockout list | clear`. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { T, newLockout, type ContractSubject } from './fixtures.js';

/** Recording, listing, clearing and expiring lockouts. */
export function lockoutContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('lockouts', () => {
    it('listActiveLockouts returns lockouts in force and not cleared, oldest first', async () => {
      await store.recordLockouts([
        newLockout({ kind: 'user_ip', username: 'alice', ipKey: '198.51.100.7', startedAt: T }),
        newLockout({ kind: 'ip', ipKey: '198.51.100.8', startedAt: T + 1 }),
        newLockout({
          kind: 'client_ip',
          clientId: 'c1',
          ipKey: '2001:db8:1:2::/64',
          startedAt: T - 1000,
          until: T - 100,
        }),
      ]);
      const active = await store.listActiveLockouts(T + 10);
      expect(
        active.map((l) => ({
          kind: l.kind,
          username: l.username,
          clientId: l.clientId,
          ipKey: l.ipKey,
          startedAt: l.startedAt,
          until: l.until,
          clearedAt: l.clearedAt,
        })),
      ).toEqual([
        {
          kind: 'user_ip',
          username: 'alice',
          clientId: null,
          ipKey: '198.51.100.7',
          startedAt: T,
          until: T + 900,
          clearedAt: null,
        },
        {
          kind: 'ip',
          username: null,
          clientId: null,
          ipKey: '198.51.100.8',
          startedAt: T + 1,
          until: T + 900,
          clearedAt: null,
        },
      ]);
      expect(await store.listActiveLockouts(T + 901)).toEqual([]);
    });

    it('clearLockouts by username ends that user’s lockouts (any IP, and across IPs) and no other', async () => {
      await store.recordLockouts([
        newLockout({ kind: 'user_ip', username: 'alice', ipKey: '198.51.100.7' }),
        newLockout({ kind: 'user', username: 'alice' }),
        newLockout({ kind: 'user_ip', username: 'bob', ipKey: '198.51.100.7' }),
        newLockout({ kind: 'ip', ipKey: '198.51.100.7' }),
      ]);
      const cleared = await store.clearLockouts({ username: 'alice' }, T + 5);
      expect(cleared.map((l) => [l.kind, l.username, l.clearedAt]).sort()).toEqual([
        ['user', 'alice', T + 5],
        ['user_ip', 'alice', T + 5],
      ]);
      expect((await store.listActiveLockouts(T + 6)).map((l) => [l.kind, l.username])).toEqual([
        ['user_ip', 'bob'],
        ['ip', null],
      ]);
      expect(await store.clearLockouts({ username: 'alice' }, T + 7)).toEqual([]);
    });

    it(
      'clearLockouts by IP key ends the IP’s lockouts, every ' + 'username’s and every client’s from it, and no other',
      async () => {
        await store.recordLockouts([
          newLockout({ kind: 'ip', ipKey: '2001:db8:1:2::/64' }),
          newLockout({ kind: 'user_ip', username: 'alice', ipKey: '2001:db8:1:2::/64' }),
          newLockout({ kind: 'client_ip', clientId: 'c1', ipKey: '2001:db8:1:2::/64' }),
          newLockout({ kind: 'ip', ipKey: '2001:db8:1:3::/64' }),
          newLockout({ kind: 'user', username: 'alice' }),
        ]);
        const cleared = await store.clearLockouts({ ipKey: '2001:db8:1:2::/64' }, T + 5);
        expect(cleared.map((l) => l.kind).sort()).toEqual(['client_ip', 'ip', 'user_ip']);
        expect((await store.listActiveLockouts(T + 6)).map((l) => [l.kind, l.ipKey])).toEqual([
          ['ip', '2001:db8:1:3::/64'],
          ['user', null],
        ]);
      },
    );

    it(
      'lockoutsClearedSince returns the lockouts cleared at or after the time given, and an ended lockout cannot ' +
        'be cleared',
      async () => {
        await store.recordLockouts([
          newLockout({ kind: 'ip', ipKey: '192.0.2.1' }),
          newLockout({ kind: 'ip', ipKey: '192.0.2.2' }),
          newLockout({ kind: 'ip', ipKey: '192.0.2.3', until: T + 5 }),
        ]);
        await store.clearLockouts({ ipKey: '192.0.2.1' }, T + 10);
        await store.clearLockouts({ ipKey: '192.0.2.2' }, T + 20);
        expect(await store.clearLockouts({ ipKey: '192.0.2.3' }, T + 20)).toEqual([]);
        expect((await store.lockoutsClearedSince(T + 10)).map((l) => [l.ipKey, l.clearedAt])).toEqual([
          ['192.0.2.1', T + 10],
          ['192.0.2.2', T + 20],
        ]);
        expect((await store.lockoutsClearedSince(T + 11)).map((l) => l.ipKey)).toEqual(['192.0.2.2']);
        expect(await store.lockoutsClearedSince(T + 21)).toEqual([]);
      },
    );

    it('of two concurrent clears of one user each lockout is reported cleared by exactly one', async () => {
      await store.recordLockouts(
        ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ipKey) => newLockout({ username: 'carol', ipKey })),
      );
      const [x, y] = await Promise.all([
        store.clearLockouts({ username: 'carol' }, T + 1),
        store.clearLockouts({ username: 'carol' }, T + 1),
      ]);
      expect([...x!, ...y!].map((l) => l.ipKey).sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    });

    it('deleteExpired removes lockouts that ended more than the retention ago', async () => {
      await store.recordLockouts([
        newLockout({ kind: 'ip', ipKey: '192.0.2.9', until: T + 10 }),
        newLockout({ kind: 'ip', ipKey: '192.0.2.10', until: T + 1000 }),
      ]);
      await store.clearLockouts({ ipKey: '192.0.2.9' }, T + 5);
      expect(await store.deleteExpired({ now: T + 500, retentionSeconds: 100, limit: 100 })).toBe(1);
      expect((await store.lockoutsClearedSince(0)).length).toBe(0);
      expect((await store.listActiveLockouts(T + 500)).map((l) => l.ipKey)).toEqual(['192.0.2.10']);
    });
  });
}
