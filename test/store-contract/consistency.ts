/**
 * What holds across the store's parts and across instances: a token read after a change shows it, and
 * concurrent rotations of one refresh token have exactly one winner.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { T, ACCESS_TTL, issueGrant, rotation, type ContractSubject } from './fixtures.js';

/** `subject.openSecond`, when given, opens another instance on the same database. */
export function consistencyContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('a token read before a change is read changed after it', () => {
    it('after the rotation of its refresh token: revoked', async () => {
      const g = await issueGrant(store);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.rotateRefreshToken(rotation(g, g.refresh.hash, T + 5))).toBe('rotated');
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 5 });
    });

    it('after revokeGrant: revoked; other grants read before stay as they were', async () => {
      const g = await issueGrant(store);
      const other = await issueGrant(store, { clientId: g.clientId, username: g.username });
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.findAccessToken(other.access.hash)).toMatchObject({ revokedAt: null });
      await store.revokeGrant(g.grantId, T + 6);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 6 });
      expect(await store.findAccessToken(other.access.hash)).toMatchObject({ revokedAt: null });
    });

    it('after setUserActive(false): inactive and revoked', async () => {
      const g = await issueGrant(store);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: true, revokedAt: null });
      expect(await store.setUserActive(g.username, false, T + 7)).toBe(true);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: false, revokedAt: T + 7 });
    });

    it('after setUserPassword with revokeGrants: revoked', async () => {
      const g = await issueGrant(store);
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
      expect(await store.setUserPassword(g.username, 'password-hash-v2', { revokeGrants: true, now: T + 8 })).toBe(
        true,
      );
      expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 8 });
    });

    it('after deleteClient: gone', async () => {
      const g = await issueGrant(store);
      expect(await store.findAccessToken(g.access.hash)).not.toBeNull();
      expect(await store.deleteClient(g.clientId)).toBe(true);
      expect(await store.findAccessToken(g.access.hash)).toBeNull();
    });

    it('after deleteExpired removed it: gone', async () => {
      const g = await issueGrant(store);
      expect(await store.findAccessToken(g.access.hash)).not.toBeNull();
      await store.deleteExpired({ now: T + ACCESS_TTL + 1, retentionSeconds: 0, limit: 100 });
      expect(await store.findAccessToken(g.access.hash)).toBeNull();
    });

    it.skipIf(!subject.openSecond)(
      'after a change through another instance on the same database (another process): revoked, inactive, gone',
      async () => {
        const second = await subject.openSecond!();
        try {
          const g1 = await issueGrant(store);
          const g2 = await issueGrant(store);
          const g3 = await issueGrant(store);
          for (const g of [g1, g2, g3])
            expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null, userIsActive: true });
          await second.revokeGrant(g1.grantId, T + 9);
          expect(await store.findAccessToken(g1.access.hash)).toMatchObject({ revokedAt: T + 9 });
          expect(await store.findAccessToken(g2.access.hash)).toMatchObject({ revokedAt: null });
          expect(await second.setUserActive(g2.username, false, T + 10)).toBe(true);
          expect(await store.findAccessToken(g2.access.hash)).toMatchObject({ userIsActive: false, revokedAt: T + 10 });
          expect(await second.deleteClient(g3.clientId)).toBe(true);
          expect(await store.findAccessToken(g3.access.hash)).toBeNull();
        } finally {
          await second.close();
        }
      },
    );
  });

  describe('concurrency', () => {
    async function race(stores: Store[]) {
      const g = await issueGrant(store);
      const rotations = Array.from({ length: 10 }, () => rotation(g, g.refresh.hash, T + 10));
      const results = await Promise.all(rotations.map((r, i) => stores[i % stores.length]!.rotateRefreshToken(r)));
      expect(results.filter((x) => x === 'rotated')).toHaveLength(1);
      expect(results.filter((x) => x === 'already_used')).toHaveLength(9);

      const findable: number[] = [];
      for (const [i, r] of rotations.entries()) {
        const access = await store.findAccessToken(r.access.hash);
        const refresh = await store.findRefreshToken(r.refresh.hash);
        expect(access === null).toBe(refresh === null);
        if (access) findable.push(i);
      }
      expect(findable).toEqual([results.indexOf('rotated')]);
      expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: T + 10 });
    }

    it(
      'of 10 concurrent rotations of one refresh token exactly one is rotated, nine are already_used, and only ' +
        'the winner’s pair exists',
      async () => {
        await race([store]);
      },
    );

    it.skipIf(!subject.openSecond)(
      'of 10 concurrent rotations of one refresh token through two store instances on one database exactly one ' +
        'is rotated',
      async () => {
        const second = await subject.openSecond!();
        try {
          await race([store, second]);
        } finally {
          await second.close();
        }
      },
    );
  });
}
