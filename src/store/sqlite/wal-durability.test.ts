import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walDurability } from './wal-durability.js';

/** A sync whose completions the test releases by hand. */
function manualSync() {
  const calls: { fd: number; release(): void; fail(error: Error): void }[] = [];
  const sync = (fd: number) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ fd, release: resolve, fail: reject });
    });
  return { sync, calls };
}

const settled = async (promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return state;
};

describe('walDurability', () => {
  let dir: string;
  let wal: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-wal-'));
    wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves at once when nothing was committed since the last sync', async () => {
    const { sync, calls } = manualSync();
    const d = walDurability(wal, sync);
    expect(await settled(d.durable())).toBe('resolved');
    expect(calls).toHaveLength(0);
  });

  it('does not resolve a commit before a sync started after it has completed', async () => {
    const { sync, calls } = manualSync();
    const d = walDurability(wal, sync);
    d.committed();
    const first = d.durable();
    expect(calls).toHaveLength(1);
    // A commit while that sync is in flight is not covered by it.
    d.committed();
    const second = d.durable();
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    expect(await settled(first)).toBe('resolved');
    expect(await settled(second)).toBe('pending');
    // …the next sync, started once the first completed, covers it.
    expect(calls).toHaveLength(2);
    calls[1]!.release();
    expect(await settled(second)).toBe('resolved');
    await d.close();
  });

  it('shares one sync among every commit made while the previous one was in flight (group commit)', async () => {
    const { sync, calls } = manualSync();
    const d = walDurability(wal, sync);
    d.committed();
    const head = d.durable();
    const waiting = Array.from({ length: 10 }, () => {
      d.committed();
      return d.durable();
    });
    calls[0]!.release();
    await settled(head);
    expect(calls).toHaveLength(2);
    calls[1]!.release();
    expect(await settled(Promise.all(waiting))).toBe('resolved');
    expect(calls).toHaveLength(2);
    await d.close();
  });

  it(
    'after a failed sync, rejects every waiter and every later ' + 'durable() with an I/O error (never retried)',
    async () => {
      const { sync, calls } = manualSync();
      const d = walDurability(wal, sync);
      d.committed();
      const waiter = d.durable();
      calls[0]!.fail(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
      await expect(waiter).rejects.toMatchObject({ code: 'SQLITE_IOERR_FSYNC' });
      expect(d.failure).not.toBeNull();
      d.committed();
      await expect(d.durable()).rejects.toMatchObject({ code: 'SQLITE_IOERR_FSYNC' });
      expect(calls).toHaveLength(1);
      await d.close();
    },
  );

  it('syncs the real file with fdatasync by default', async () => {
    const d = walDurability(wal);
    d.committed();
    await expect(d.durable()).resolves.toBeUndefined();
    await d.close();
  });
});
