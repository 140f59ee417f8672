import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessTokenRecord } from '../../core/types.js';
import { accessTokenCache } from './access-token-cache.js';

const record = (grantId: string): AccessTokenRecord => ({
  grantId,
  clientId: 'c',
  userId: 1,
  username: 'u',
  userIsActive: true,
  userIsAdmin: false,
  scope: ['read'],
  issuedAt: 1,
  expiresAt: 3601,
  revokedAt: null,
});
const hash = (n: number) => Buffer.alloc(32, n);

describe('accessTokenCache', () => {
  let db: Database.Database;
  let loads: number;
  const loader = (value: AccessTokenRecord | null) => () => {
    loads += 1;
    return value;
  };

  beforeEach(() => {
    db = new Database(':memory:');
    loads = 0;
  });
  afterEach(() => db.close());

  it('reads the database once per token found, never for a token it holds, and hands out a frozen copy', () => {
    const cache = accessTokenCache(db, 10);
    const first = cache.get(hash(1), loader(record('g1')));
    const again = cache.get(hash(1), loader(record('changed')));
    expect(loads).toBe(1);
    expect(again).toBe(first);
    expect(again).toMatchObject({ grantId: 'g1' });
    expect(Object.isFrozen(first) && Object.isFrozen(first!.scope)).toBe(true);
  });

  it('never keeps a token that was not found: a token written later is found', () => {
    const cache = accessTokenCache(db, 10);
    expect(cache.get(hash(2), loader(null))).toBeNull();
    expect(cache.get(hash(2), loader(record('g2')))).toMatchObject({ grantId: 'g2' });
    expect(loads).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest, whose grant no longer points to it', () => {
    const cache = accessTokenCache(db, 2);
    cache.get(hash(1), loader(record('g1')));
    cache.get(hash(2), loader(record('g2')));
    cache.get(hash(3), loader(record('g3')));
    loads = 0;
    cache.get(hash(2), loader(record('g2')));
    cache.get(hash(3), loader(record('g3')));
    expect(loads).toBe(0);
    cache.get(hash(1), loader(record('g1')));
    expect(loads).toBe(1);
    // g1 came back, evicting g2; forgetting g2 must not touch the others.
    cache.forgetGrant('g2');
    loads = 0;
    cache.get(hash(1), loader(record('g1')));
    cache.get(hash(3), loader(record('g3')));
    expect(loads).toBe(0);
  });

  it('forgetGrant drops every token of that grant and only those; clear drops all', () => {
    const cache = accessTokenCache(db, 10);
    cache.get(hash(1), loader(record('g1')));
    cache.get(hash(2), loader(record('g1')));
    cache.get(hash(3), loader(record('g3')));
    cache.forgetGrant('g1');
    loads = 0;
    cache.get(hash(1), loader(record('g1')));
    cache.get(hash(2), loader(record('g1')));
    cache.get(hash(3), loader(record('g3')));
    expect(loads).toBe(2);
    cache.clear();
    cache.get(hash(3), loader(record('g3')));
    expect(loads).toBe(3);
  });

  it('with maxEntries 0 reads the database every time', () => {
    const cache = accessTokenCache(db, 0);
    cache.get(hash(1), loader(record('g1')));
    cache.get(hash(1), loader(record('g1')));
    expect(loads).toBe(2);
  });

  it(
    'empties itself in the next turn of the event loop after another connection committed (another process), not ' +
      'before',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'oauthd-cache-'));
      const file = new Database(join(dir, 'db.sqlite3'));
      const other = new Database(join(dir, 'db.sqlite3'));
      try {
        file.pragma('journal_mode = WAL');
        file.exec('CREATE TABLE t (x INTEGER)');
        const cache = accessTokenCache(file, 10);
        cache.get(hash(1), loader(record('g1')));
        await nextTurn();
        cache.get(hash(1), loader(record('g1')));
        expect(loads).toBe(1);
        other.prepare('INSERT INTO t VALUES (1)').run();
        // Same turn as the last check: the commit is not looked for yet.
        cache.get(hash(1), loader(record('g1')));
        expect(loads).toBe(1);
        await nextTurn();
        expect(cache.get(hash(1), loader(record('revoked')))).toMatchObject({ grantId: 'revoked' });
        expect(loads).toBe(2);
        // This connection's own commits do not change data_version: the cache stays (its writers invalidate).
        file.prepare('INSERT INTO t VALUES (2)').run();
        await nextTurn();
        cache.get(hash(1), loader(record('g1')));
        expect(loads).toBe(2);
      } finally {
        other.close();
        file.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
