import { describe, expect, it } from 'vitest';
import type { LockoutStore } from '../core/ports.js';
import type { Lockout, LockoutSubject } from '../core/types.js';
import { startLockoutSync } from './lockout-sync.js';

const now = () => Math.floor(Date.now() / 1000);
const row = (id: number, clearedAt: number): Lockout => ({
  id,
  kind: 'user_ip',
  username: 'alice',
  clientId: null,
  ipKey: '192.0.2.1',
  startedAt: clearedAt - 10,
  until: clearedAt + 600,
  clearedAt,
});
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lockout sync', () => {
  it('takes clears already in the store at start as applied, then applies each later clear once', async () => {
    const rows: Lockout[] = [row(1, now() - 5)];
    let failing = false;
    const store: Pick<LockoutStore, 'lockoutsClearedSince'> = {
      lockoutsClearedSince: async (since: number) => {
        if (failing) throw new Error('store down');
        return rows.filter((r) => r.clearedAt! >= since);
      },
    };
    const cleared: LockoutSubject[] = [];
    const errors: unknown[] = [];
    const sync = startLockoutSync(
      store,
      { clear: async (s) => void cleared.push(s) },
      { intervalMs: 20, onError: (e) => errors.push(e) },
    );
    try {
      await tick(80);
      // A restarted server must not wipe a newer lockout of the same subject with an old clear.
      expect(cleared).toEqual([]);
      rows.push(row(2, now()));
      await tick(80);
      expect(cleared.map((s) => (s as Lockout).id)).toEqual([2]);
      // An outage is reported once, and the clears made meanwhile are applied when it ends.
      failing = true;
      await tick(80);
      rows.push(row(3, now()));
      failing = false;
      await tick(80);
      expect(cleared.map((s) => (s as Lockout).id)).toEqual([2, 3]);
      expect(errors).toHaveLength(1);
    } finally {
      await sync.stop();
    }
  });
});
