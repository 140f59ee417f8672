/** The StoreMaintenance contract (src/core/ports.ts). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { T, newClient, newUser, issueGrant, rotation, stored, type ContractSubject } from './fixtures.js';

/** Migrations, counts, and erasing sealed successors past the grace window. */
export function maintenanceContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('migrate', () => {
    it('running migrate twice more on a migrated store succeeds and keeps existing data', async () => {
      const client = newClient();
      await store.createClient(client);
      await store.migrate();
      await store.migrate();
      expect(await store.findClient(client.clientId)).toEqual(stored(client));
      expect(await store.createUser(newUser())).toBe('created');
    });

    it('a fresh store has no clients and no users', async () => {
      expect(await store.counts()).toEqual({ clients: 0, users: 0 });
      expect(await store.listClients()).toEqual([]);
      expect(await store.listUsers()).toEqual([]);
    });
  });

  describe('counts', () => {
    it('counts reports the number of clients and users', async () => {
      expect(await store.counts()).toEqual({ clients: 0, users: 0 });
      await store.createClient(newClient());
      expect(await store.counts()).toEqual({ clients: 1, users: 0 });
      await store.createUser(newUser());
      await store.createUser(newUser());
      await store.createClient(newClient());
      await store.createClient(newClient());
      expect(await store.counts()).toEqual({ clients: 3, users: 2 });
    });
  });

  describe('eraseSealedSuccessors (grace window)', () => {
    const GRACE = 30;
    const sealed = (n: number) => Buffer.alloc(48, n);

    /** A grant whose first refresh token was rotated at `usedAt` with a sealed successor. */
    async function usedWithSuccessor(usedAt: number) {
      const g = await issueGrant(store);
      const r = { ...rotation(g, g.refresh.hash, usedAt), successorResponse: sealed(usedAt % 256) };
      expect(await store.rotateRefreshToken(r)).toBe('rotated');
      return { g, r };
    }

    /** Calls from `usedFrom` until the range is done; returns the erased count and the calls made. */
    async function eraseAll(now: number, usedFrom: number, limit: number) {
      let erased = 0;
      let calls = 0;
      for (let from: number | null = usedFrom; from !== null; calls++) {
        const result = await store.eraseSealedSuccessors({ now, graceSeconds: GRACE, usedFrom: from, limit });
        erased += result.erased;
        if (result.next !== null) expect(result.next).toBeGreaterThan(from);
        from = result.next;
      }
      return { erased, calls };
    }

    it(
      'erases the sealed successor of a token used more than the grace window before now, and keeps those within ' +
        'it',
      async () => {
        const old = await usedWithSuccessor(T + 10);
        const recent = await usedWithSuccessor(T + 50);
        expect((await store.findRefreshToken(old.g.refresh.hash))?.successor?.response).toEqual(sealed((T + 10) % 256));

        // now − grace = T + 41: the first was used before it, the second after.
        expect(
          await store.eraseSealedSuccessors({ now: T + 71, graceSeconds: GRACE, usedFrom: 0, limit: 100 }),
        ).toEqual({
          erased: 1,
          next: null,
        });
        expect(await store.findRefreshToken(old.g.refresh.hash)).toMatchObject({ usedAt: T + 10, successor: null });
        expect((await store.findRefreshToken(recent.g.refresh.hash))?.successor).toEqual({
          response: sealed((T + 50) % 256),
          live: true,
        });
        // The pair itself is untouched: its refresh token still rotates.
        expect(await store.rotateRefreshToken(rotation(old.g, old.r.refresh.hash, T + 72))).toBe('rotated');
        // At the window's last second (now − used_at = grace) it is kept.
        expect(
          await store.eraseSealedSuccessors({ now: T + 50 + GRACE, graceSeconds: GRACE, usedFrom: 0, limit: 100 }),
        ).toEqual({ erased: 0, next: null });
        expect((await store.findRefreshToken(recent.g.refresh.hash))?.successor).not.toBeNull();
      },
    );

    it(
      'walks about limit used tokens per call, in used_at order, ' + 'and says where to go on until the range is done',
      async () => {
        for (const at of [T + 1, T + 2, T + 3, T + 4, T + 5]) await usedWithSuccessor(at);
        const first = await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: 0, limit: 2 });
        expect(first).toEqual({ erased: 2, next: T + 3 });
        const rest = await eraseAll(T + 100, first.next!, 2);
        expect(rest).toEqual({ erased: 3, calls: 2 });
        expect(await eraseAll(T + 100, 0, 2)).toMatchObject({ erased: 0 });
      },
    );

    it('takes a whole second in one call when more than limit tokens were used in it, so it never stalls', async () => {
      for (let i = 0; i < 4; i++) await usedWithSuccessor(T + 7);
      await usedWithSuccessor(T + 8);
      expect(
        await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: T + 7, limit: 2 }),
      ).toEqual({ erased: 4, next: T + 8 });
      expect(
        await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: T + 8, limit: 2 }),
      ).toEqual({ erased: 1, next: null });
    });

    it('looks only at tokens used since usedFrom', async () => {
      const before = await usedWithSuccessor(T + 10);
      const after = await usedWithSuccessor(T + 20);
      await eraseAll(T + 100, T + 15, 100);
      expect((await store.findRefreshToken(before.g.refresh.hash))?.successor).not.toBeNull();
      expect((await store.findRefreshToken(after.g.refresh.hash))?.successor).toBeNull();
    });
  });
}
