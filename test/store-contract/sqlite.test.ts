import { spawnSync } from 'node:child_process';
import { fdatasync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError, type NewClient, type Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import type { SqliteStoreOptions } from '../../src/store/sqlite/connection.js';
import { openStore } from '../../src/store/store.js';
import { runStoreContract } from './contract.js';
import { runOperatorContract } from './operator-contract.js';

/** Each test gets its own directory and SQLite file. */
async function openFresh(
  options: SqliteStoreOptions = {},
): Promise<{ store: Store; path: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'oauthd-store-'));
  const path = join(dir, 'oauthd.sqlite3');
  const store = openStore(`sqlite:${path}`, { sqlite: options });
  await store.migrate();
  return {
    store,
    path,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The file of the store most recently opened by the contract, for its second instance. */
let currentPath: string | undefined;

/** Every row of a table of the contract's current store, through a read-only connection of its own. */
async function readTable(table: string): Promise<Record<string, unknown>[]> {
  if (!currentPath) throw new Error('readTable called before open');
  const db = new Database(currentPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

runStoreContract(
  'sqlite',
  async () => {
    const opened = await openFresh();
    currentPath = opened.path;
    return opened;
  },
  async () => {
    if (!currentPath) throw new Error('openSecond called before open');
    return openStore(`sqlite:${currentPath}`);
  },
  readTable,
);

runOperatorContract('sqlite', openFresh);

// The server's configuration: the same contract with checkpoints on a worker thread.
runStoreContract(
  'sqlite (background checkpoints)',
  async () => {
    const opened = await openFresh({ checkpoint: 'background' });
    currentPath = opened.path;
    return opened;
  },
  async () => {
    if (!currentPath) throw new Error('openSecond called before open');
    return openStore(`sqlite:${currentPath}`, { sqlite: { checkpoint: 'background' } });
  },
  readTable,
);

describe('SQLite store: infrastructure failures', () => {
  let opened: Awaited<ReturnType<typeof openFresh>>;

  beforeEach(async () => {
    opened = await openFresh();
  });

  afterEach(async () => {
    await opened.cleanup();
  });

  it('a write while another connection holds the write lock past busy_timeout fails with StoreUnavailableError ' +
    'and writes nothing', async () => {
    const { store, path } = opened;
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      const error = await store
        .createUser({ username: 'alice', passwordHash: 'hash', isActive: true, createdAt: 1_700_000_000 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).name).toBe('StoreUnavailableError');
      expect((error as Error).message).toMatch(/SQLITE_BUSY/);
      // It waited for busy_timeout before giving up.
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(await store.findUserByUsername('alice')).toBeNull();
    // Once the lock is released the same store serves writes again.
    expect(
      await store.createUser({ username: 'alice', passwordHash: 'hash', isActive: true, createdAt: 1_700_000_000 }),
    ).toBe('created');
  }, 15_000);

  it('a rotation (a write transaction) while another connection holds the write lock fails with ' +
    'StoreUnavailableError', async () => {
    const { store, path } = opened;
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const now = 1_700_000_000;
      const token = (issuedAt: number) => ({
        hash: tokenKey(mintToken(Date.now())),
        scope: ['read'],
        issuedAt,
        expiresAt: issuedAt + 60,
      });
      await expect(
        store.rotateRefreshToken({
          presentedHash: tokenKey(mintToken(Date.now())),
          grantId: 'any-grant',
          access: token(now),
          refresh: token(now),
          now,
        }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
  }, 15_000);
});

describe('SQLite store: group commit', () => {
  let opened: Awaited<ReturnType<typeof openFresh>>;
  const now = 1_700_000_000;
  const token = () => ({ hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: now, expiresAt: now + 60 });

  beforeEach(async () => {
    opened = await openFresh();
    const { store } = opened;
    await store.createClient({
      clientId: 'c',
      name: 'c',
      secretHash: null,
      isPublic: true,
      grantTypes: ['password'],
      scopes: ['read'],
      createdAt: now,
    });
    await store.createUser({ username: 'u', passwordHash: null, isActive: true, createdAt: now });
  });

  afterEach(async () => {
    await opened.cleanup();
  });

  const grant = async (id: string) => {
    const user = (await opened.store.findUserByUsername('u'))!;
    return {
      grant: { id, clientId: 'c', userId: user.id, scope: ['read'], createdAt: now },
      access: token(),
      refresh: { ...token(), expiresAt: null },
    };
  };

  it('writes issued in one turn of the event loop share a commit, and one failing write fails alone', async () => {
    const first = await grant('g1');
    const duplicate = { ...(await grant('g1')) }; // same grant id: violates the primary key
    const third = await grant('g3');
    const results = await Promise.allSettled([
      opened.store.issueTokens(first),
      opened.store.issueTokens(duplicate),
      opened.store.issueTokens(third),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await opened.store.findAccessToken(first.access.hash)).not.toBeNull();
    expect(await opened.store.findAccessToken(duplicate.access.hash)).toBeNull();
    expect(await opened.store.findAccessToken(third.access.hash)).not.toBeNull();
  });

  it('rotations of different tokens in one turn all succeed, each with its own result', async () => {
    const grants = await Promise.all(['a', 'b', 'c', 'd'].map((id) => grant(`g-${id}`)));
    for (const g of grants) await opened.store.issueTokens(g);
    const results = await Promise.all(
      grants.map((g) =>
        opened.store.rotateRefreshToken({
          presentedHash: g.refresh.hash,
          grantId: g.grant.id,
          access: token(),
          refresh: { ...token(), expiresAt: null },
          now,
        }),
      ),
    );
    expect(results).toEqual(['rotated', 'rotated', 'rotated', 'rotated']);
    const again = await opened.store.rotateRefreshToken({
      presentedHash: grants[0]!.refresh.hash,
      grantId: 'g-a',
      access: token(),
      refresh: token(),
      now,
    });
    expect(again).toBe('already_used');
  });
});

describe('SQLite store: one read transaction per event-loop turn', () => {
  let opened: Awaited<ReturnType<typeof openFresh>>;
  let other: Database.Database;
  const now = 1_700_000_000;
  const client = (clientId: string): NewClient => ({
    clientId,
    name: clientId,
    secretHash: null,
    isPublic: true,
    grantTypes: ['password'],
    scopes: ['read'],
    createdAt: now,
  });
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(async () => {
    opened = await openFresh();
    await opened.store.createClient(client('a'));
    other = new Database(opened.path);
  });

  afterEach(async () => {
    other.close();
    await opened.cleanup();
  });

  it(
    'reads of one turn see the database as at the first of them; the next turn sees what another connection ' +
      'committed',
    async () => {
      await nextTurn();
      const first = opened.store.findClient('a'); // begins this turn's read transaction
      other
        .prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, created_at,
          updated_at)
        VALUES ('b', 'b', NULL, 1, 'password', 'read', ${now}, ${now})`)
        .run();
      const sameTurn = opened.store.findClient('b');
      expect(await first).toMatchObject({ clientId: 'a' });
      expect(await sameTurn).toBeNull(); // committed after this turn's first read
      await nextTurn();
      expect(await opened.store.findClient('b')).toMatchObject({ clientId: 'b' });
    },
  );

  it('a write of this connection ends the turn’s read transaction and commits on its own, at once', async () => {
    await nextTurn();
    void opened.store.findClient('a'); // a read transaction is open now
    const writing = opened.store.createClient(client('c')); // runs its transaction synchronously, then awaits the sync
    // Still in the same turn: another connection already sees the commit (inside the read transaction, as a
    // savepoint of it, it would not be committed before the end of the turn).
    expect(other.prepare("SELECT client_id FROM clients WHERE client_id = 'c'").get()).toEqual({ client_id: 'c' });
    expect(await writing).toBe('created');
    // And a read after it in the same turn sees it.
    expect(await opened.store.findClient('c')).toMatchObject({ clientId: 'c' });
  });
});

describe('SQLite store: durability off the event loop', () => {
  const now = 1_700_000_000;
  const token = () => ({ hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: now, expiresAt: now + 60 });
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const seed = async (store: Store, grants: number) => {
    await store.createClient({
      clientId: 'c',
      name: 'c',
      secretHash: null,
      isPublic: true,
      grantTypes: ['password'],
      scopes: ['read'],
      createdAt: now,
    });
    await store.createUser({ username: 'u', passwordHash: null, isActive: true, createdAt: now });
    const user = (await store.findUserByUsername('u'))!;
    const issued = Array.from({ length: grants }, (_, i) => ({
      grant: { id: `g${i}`, clientId: 'c', userId: user.id, scope: ['read'], createdAt: now },
      access: token(),
      refresh: { ...token(), expiresAt: null },
    }));
    await Promise.all(issued.map((g) => store.issueTokens(g)));
    return issued;
  };

  it(
    'answers a rotation only after an fdatasync of the WAL that started after its commit, and runs at ' +
      'synchronous = NORMAL',
    async () => {
      const path = join(dir, 'oauthd.sqlite3');
      const syncs: { release(): void }[] = [];
      let holding = false;
      const syncWal = (fd: number) =>
        holding
          ? new Promise<void>((release) => syncs.push({ release }))
          : new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      const store = openStore(`sqlite:${path}`, { sqlite: { syncWal } });
      try {
        await store.migrate();
        const [g] = await seed(store, 1);
        holding = true;
        let answered = false;
        const next = { ...token(), expiresAt: null };
        const rotation = store
          .rotateRefreshToken({ presentedHash: g!.refresh.hash, grantId: 'g0', access: token(), refresh: next, now })
          .then((r) => {
            answered = true;
            return r;
          });
        await new Promise((r) => setTimeout(r, 50));
        // Committed (another connection sees it) but not answered: the sync has not completed.
        const other = new Database(path, { readonly: true });
        expect(
          (
            other.prepare('SELECT used_at FROM refresh_tokens WHERE token_hash = ?').get(g!.refresh.hash) as {
              used_at: number;
            }
          ).used_at,
        ).toBe(now);
        expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
        other.close();
        expect(answered).toBe(false);
        expect(syncs).toHaveLength(1);
        // Reading the used token back (what a grace-window retry or reuse detection does) waits for the sync too.
        let readBack = false;
        const reading = store.findRefreshToken(g!.refresh.hash).then((r) => {
          readBack = true;
          return r;
        });
        await new Promise((r) => setTimeout(r, 20));
        expect(readBack).toBe(false);
        syncs[0]!.release();
        expect(await rotation).toBe('rotated');
        expect((await reading)?.usedAt).toBe(now);
        // The admin writes wait for it too.
        const created = store.createUser({ username: 'v', passwordHash: null, isActive: true, createdAt: now });
        await new Promise((r) => setTimeout(r, 20));
        expect(syncs).toHaveLength(2);
        syncs[1]!.release();
        expect(await created).toBe('created');
      } finally {
        holding = false;
        for (const s of syncs) s.release();
        await store.close();
      }
    },
  );

  it(
    'a failed WAL sync fails the writes waiting on it and every ' + 'later one, and ping reports the store unavailable',
    async () => {
      const path = join(dir, 'oauthd.sqlite3');
      let failing = false;
      const syncWal = async () => {
        if (failing) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      };
      const store = openStore(`sqlite:${path}`, { sqlite: { syncWal } });
      try {
        await store.migrate();
        const [g] = await seed(store, 1);
        failing = true;
        await expect(
          store.rotateRefreshToken({
            presentedHash: g!.refresh.hash,
            grantId: 'g0',
            access: token(),
            refresh: { ...token(), expiresAt: null },
            now,
          }),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(
          store.createUser({ username: 'v', passwordHash: null, isActive: true, createdAt: now }),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await store.close();
      }
    },
  );

  it(
    'writes of one turn share a commit, and a failing one fails alone with its SQLite error (the batch is rolled ' +
      'back and replayed one by one)',
    async () => {
      const path = join(dir, 'oauthd.sqlite3');
      const store = openStore(`sqlite:${path}`);
      try {
        await store.migrate();
        const [g] = await seed(store, 1);
        const user = (await store.findUserByUsername('u'))!;
        const fresh = {
          grant: { id: 'g-new', clientId: 'c', userId: user.id, scope: ['read'], createdAt: now },
          access: token(),
          refresh: { ...token(), expiresAt: null },
        };
        const duplicate = {
          ...fresh,
          grant: { ...fresh.grant, id: 'g0' },
          access: token(),
          refresh: { ...token(), expiresAt: null },
        };
        const results = await Promise.allSettled([
          store.issueTokens(fresh),
          store.issueTokens(duplicate),
          store.revokeGrant('g0', now),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(((results[1] as PromiseRejectedResult).reason as { code: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
        expect((await store.findAccessToken(fresh.access.hash))?.revokedAt).toBeNull();
        expect(await store.findAccessToken(duplicate.access.hash)).toBeNull();
        expect((await store.findAccessToken(g!.access.hash))?.revokedAt).toBe(now);
      } finally {
        await store.close();
      }
      // Closed cleanly: the file is consistent.
      const check = new Database(path, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();
    },
  );

  it('with background checkpoints, does not keep alive a process that never closes its store', () => {
    const built = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
    const script = `import { openSqliteStore } from ${JSON.stringify(built)};
      const store = openSqliteStore(${JSON.stringify(join(dir, 'oauthd.sqlite3'))}, { checkpoint: 'background' });
      await store.migrate();
      console.log('opened');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(run.stdout.trim()).toBe('opened');
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
  });

  it(
    'with background checkpoints, a worker thread copies the WAL into the database file while the server ' +
      'connection never does',
    async () => {
      const path = join(dir, 'oauthd.sqlite3');
      const store = openStore(`sqlite:${path}`, { sqlite: { checkpoint: 'background' } });
      try {
        await store.migrate();
        const sizeBefore = statSync(path).size;
        await seed(store, 3_000);
        // Well under the server connection's own threshold (20 000 pages): only the worker can have grown the file.
        const walPages = statSync(`${path}-wal`).size / 4096;
        expect(walPages).toBeLessThan(20_000);
        await new Promise((r) => setTimeout(r, 500));
        expect(statSync(path).size).toBeGreaterThan(sizeBefore + 100 * 4096);
      } finally {
        await store.close();
      }
      // Closed cleanly: the file is consistent and holds everything.
      const check = new Database(path, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((check.prepare('SELECT count(*) AS n FROM grants').get() as { n: number }).n).toBe(3_000);
      check.close();
    },
  );
});
