/**
 * The Store contract on PostgreSQL, and what only PostgreSQL has: concurrent migrations, a real race over
 * several connections, and infrastructure failures (unreachable, silent, locked, killed connections).
 *
 * One database per file; each contract test starts from emptied tables. Skipped, loudly, when PostgreSQL
 * is unreachable, unless OAUTHD_REQUIRE_POSTGRES=1 (CI), where it fails.
 */
import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError, type Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import { migrations } from '../../src/store/migrations/index.js';
import { parsePostgresUrl } from '../../src/store/postgres/url.js';
import { openStore } from '../../src/store/store.js';
import { createTestDatabase, postgresAvailable, withClient, type TestDatabase } from '../helpers/postgres.js';
import { runStoreContract } from './contract.js';
import { runOperatorContract } from './operator-contract.js';

const T = 1_700_000_000;
const TABLES =
  'clients, users, grants, access_tokens, refresh_tokens, lockouts, client_usage, authorization_codes, ' +
  'device_codes, browser_sessions, consents, audit_events';

/** Resolves to the error `promise` rejects with, or fails. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error as Error,
  );
}

/**
 * Opens `n` connections in the store's pool (ten concurrent calls), so that a race that follows runs on
 * that many connections at once instead of queueing behind the first while new ones are set up.
 */
async function warm(store: Store, n = 10): Promise<Store> {
  await Promise.all(Array.from({ length: n }, () => store.counts()));
  return store;
}

/** A grant with its first pair, straight through the Store interface. */
async function issue(store: Store) {
  const clientId = `client-${randomUUID()}`;
  const username = `user-${randomUUID()}`;
  await store.createClient({
    clientId,
    name: 'c',
    secretHash: 'h',
    isPublic: false,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read'],
    createdAt: T,
  });
  await store.createUser({ username, passwordHash: 'p', isActive: true, createdAt: T });
  const user = (await store.findUserByUsername(username))!;
  const token = () => ({ hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: T, expiresAt: T + 60 });
  const grantId = randomUUID();
  const refresh = token();
  await store.issueTokens({
    grant: { id: grantId, clientId, userId: user.id, scope: ['read'], createdAt: T },
    access: token(),
    refresh,
  });
  const rotation = () => ({ presentedHash: refresh.hash, grantId, access: token(), refresh: token(), now: T + 10 });
  return { grantId, username, refresh, rotation };
}

if (await postgresAvailable('the PostgreSQL store tests (test/store-contract/postgres.test.ts)')) {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = openStore(db.url);
    await store.migrate();
    await store.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  runStoreContract(
    'postgres',
    async () => {
      await withClient(db.url, (client) => client.query(`TRUNCATE ${TABLES} RESTART IDENTITY CASCADE`));
      const store = openStore(db.url);
      await store.migrate();
      await warm(store);
      return { store, cleanup: () => store.close() };
    },
    // Another pool on the same database: the concurrency test races over separate connections.
    async () => warm(openStore(db.url)),
    async (table) => (await withClient(db.url, (c) => c.query(`SELECT * FROM ${table}`))).rows,
  );

  runOperatorContract('postgres', async () => {
    await withClient(db.url, (client) => client.query(`TRUNCATE ${TABLES} RESTART IDENTITY CASCADE`));
    const store = openStore(db.url);
    await store.migrate();
    await warm(store, 2);
    return { store, cleanup: () => store.close() };
  });

  describe('PostgreSQL store: migrations', () => {
    it(
      'four instances migrating one fresh database at once all ' + 'succeed, and each version is recorded once',
      async () => {
        const fresh = await createTestDatabase();
        const stores = Array.from({ length: 4 }, () => openStore(fresh.url));
        try {
          await Promise.all(stores.map((s) => s.migrate()));
          const { rows } = await withClient(fresh.url, (c) =>
            c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'),
          );
          expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
          expect(await stores[3]!.counts()).toEqual({ clients: 0, users: 0 });
        } finally {
          await Promise.all(stores.map((s) => s.close()));
          await fresh.drop();
        }
      },
    );

    it(
      'a rotation race stays single-use when the database or the URL asks for SERIALIZABLE (the store runs READ ' +
        'COMMITTED)',
      async () => {
        const fresh = await createTestDatabase();
        await withClient(fresh.url, (c) =>
          c.query(`ALTER DATABASE ${fresh.name} SET default_transaction_isolation = 'serializable'`),
        );
        const a = openStore(fresh.url);
        const b = openStore(
          `${fresh.url}?options=${encodeURIComponent('-c default_transaction_isolation=serializable')}`,
        );
        try {
          await a.migrate();
          await Promise.all([warm(a, 5), warm(b, 5)]);
          const g = await issue(a);
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).rotateRefreshToken(g.rotation())),
          );
          expect(results.filter((r) => r === 'rotated')).toHaveLength(1);
          expect(results.filter((r) => r === 'already_used')).toHaveLength(9);
        } finally {
          await Promise.all([a.close(), b.close()]);
          await fresh.drop();
        }
      },
    );
  });

  describe('PostgreSQL store: locking', () => {
    it(
      'a revocation stalled on its grant neither blocks nor deadlocks a rotation of the same family, and revokes ' +
        'what the rotation made',
      async () => {
        const store = await warm(openStore(db.url), 3);
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        try {
          const g = await issue(store);
          const first = g.rotation();
          expect(await store.rotateRefreshToken(first)).toBe('rotated');
          const second = { ...g.rotation(), presentedHash: first.refresh.hash, now: T + 31 };
          await withClient(db.url, async (other) => {
            // Another session holds the grant as a revocation does (NO KEY UPDATE), so the revocation waits at
            // its first statement…
            await other.query('BEGIN');
            await other.query('SELECT 1 FROM grants WHERE id = $1 FOR NO KEY UPDATE', [g.grantId]);
            const revoking = store.revokeGrant(g.grantId, T + 30);
            await sleep(150);
            // …while a rotation of the live token runs: it holds its grant only FOR KEY SHARE, which does not
            // wait for that lock. (Had it waited, or had the revocation locked access tokens before refresh
            // tokens, the two could wait for each other: a deadlock, 40P01.)
            const rotating = store.rotateRefreshToken(second);
            await sleep(150);
            await other.query('COMMIT');
            const [, result] = await Promise.all([revoking, rotating]);
            expect(result).toBe('rotated');
          });
          // The revocation saw the rotation's commit: the new pair is revoked too.
          expect((await store.findRefreshToken(second.refresh.hash))?.revokedAt).toBe(T + 30);
          expect((await store.findAccessToken(second.access.hash))?.revokedAt).toBe(T + 30);
        } finally {
          await store.close();
        }
      },
    );

    it(
      'rotations racing revocations of their grant and of their user never deadlock, and nothing rotates after a ' +
        'revocation commits',
      async () => {
        const a = await warm(openStore(db.url));
        const b = await warm(openStore(db.url));
        try {
          for (let round = 0; round < 5; round++) {
            const g = await issue(a);
            const calls: Promise<unknown>[] = [];
            for (let i = 0; i < 6; i++) calls.push((i % 2 ? a : b).rotateRefreshToken(g.rotation()));
            calls.splice(2, 0, a.revokeGrant(g.grantId, T + 20), b.revokeGrant(g.grantId, T + 21));
            calls.splice(5, 0, b.setUserActive(g.username, false, T + 22));
            const results = await Promise.all(calls);
            const rotations = results.filter((r) => typeof r === 'string');
            expect(rotations.filter((r) => r === 'rotated').length).toBeLessThanOrEqual(1);
            for (const r of rotations) expect(['rotated', 'already_used', 'revoked']).toContain(r);
            // Whatever the order, the family ends revoked.
            expect((await a.findRefreshToken(g.refresh.hash))?.revokedAt).not.toBeNull();
            expect(await a.rotateRefreshToken(g.rotation())).not.toBe('rotated');
          }
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );
  });

  describe('PostgreSQL store: URL options', () => {
    it(
      'takes max and statement_timeout off the URL, keeps the rest, and puts READ COMMITTED after any server ' +
        'options',
      () => {
        expect(
          parsePostgresUrl(
            'postgres://u:p@h:5432/db?max=3&sslmode=require&statement_timeout=1500&options=-c%20search_path%3Dx',
          ),
        ).toEqual({
          connectionString: 'postgres://u:p@h:5432/db?sslmode=require',
          poolMax: 3,
          statementTimeoutMs: 1500,
          sessionOptions: '-c search_path=x -c default_transaction_isolation=read\\ committed',
        });
        expect(parsePostgresUrl('postgresql://h/db')).toMatchObject({
          connectionString: 'postgresql://h/db',
          poolMax: 10,
          statementTimeoutMs: 5000,
        });
      },
    );

    it('refuses a bad pool size with a one-line error that does not show the password', () => {
      expect(() => openStore('postgres://oauthd:hunter2@127.0.0.1/db?max=0')).toThrow(/max must be a whole number/);
      try {
        openStore('postgres://oauthd:hunter2@127.0.0.1/db?statement_timeout=soon');
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
        expect((error as Error).message).toContain('***');
      }
    });

    it('never opens more connections than ?max allows', async () => {
      const store = openStore(`${db.url}?max=2&application_name=oauthd_pool_test`);
      try {
        await Promise.all(Array.from({ length: 12 }, () => store.counts()));
        const { rows } = await withClient(db.url, (c) =>
          c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = ` +
              `'oauthd_pool_test'`,
            [db.name],
          ),
        );
        expect(rows[0]!.n).toBeLessThanOrEqual(2);
        expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
      } finally {
        await store.close();
      }
    });
  });

  describe('PostgreSQL store: infrastructure failures', () => {
    it('an unreachable server gives StoreUnavailableError at once, without the password in the message', async () => {
      const store = openStore('postgres://oauthd:hunter2-secret@127.0.0.1:1/oauthd');
      try {
        const started = Date.now();
        const error = await rejection(store.findClient('any'));
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error.message).toMatch(/ECONNREFUSED/);
        expect(error.message).not.toContain('hunter2');
        expect(await rejection(store.migrate())).toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(6_000);
      } finally {
        await store.close();
      }
    });

    it('a server that accepts the connection and never answers gives StoreUnavailableError within the connection ' +
      'timeout, not a hang', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const store = openStore(`postgres://oauthd:hunter2@127.0.0.1:${(silent.address() as AddressInfo).port}/oauthd`);
      try {
        const started = Date.now();
        const error = await rejection(store.counts());
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error.message).not.toContain('hunter2');
        expect(Date.now() - started).toBeLessThan(6_000);
      } finally {
        await store.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    }, 15_000);

    it(
      'a write blocked by a lock past statement_timeout gives StoreUnavailableError (57014) and writes nothing; ' +
        'the store serves again afterwards',
      async () => {
        const store = openStore(`${db.url}?statement_timeout=1000`);
        const username = `user-${randomUUID()}`;
        const user = { username, passwordHash: 'hash', isActive: true, createdAt: T };
        try {
          await withClient(db.url, async (other) => {
            await other.query('BEGIN');
            await other.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
            const started = Date.now();
            const error = await rejection(store.createUser(user));
            expect(error).toBeInstanceOf(StoreUnavailableError);
            expect(error.message).toMatch(/57014/);
            expect(Date.now() - started).toBeGreaterThanOrEqual(900);
            await other.query('ROLLBACK');
          });
          expect(await store.findUserByUsername(username)).toBeNull();
          expect(await store.createUser(user)).toBe('created');
        } finally {
          await store.close();
        }
      },
    );

    it(
      'a connection killed during a call (57P01) gives StoreUnavailableError; connections killed while idle do ' +
        'not crash the process, and the next call reconnects',
      async () => {
        const store = openStore(`${db.url}?application_name=oauthd_kill_test`);
        const kill = () =>
          withClient(db.url, (c) =>
            c.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = ` +
                `'oauthd_kill_test'`,
              [db.name],
            ),
          );
        try {
          const g = await issue(store);
          // During a call: the rotation waits for a lock held elsewhere, and its connection is terminated.
          await withClient(db.url, async (other) => {
            await other.query('BEGIN');
            await other.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [g.refresh.hash]);
            const pending = rejection(store.rotateRefreshToken(g.rotation()));
            await new Promise((resolve) => setTimeout(resolve, 200));
            await kill();
            const error = await pending;
            expect(error).toBeInstanceOf(StoreUnavailableError);
            expect(error.message).toMatch(/57P01|terminat/i);
            await other.query('ROLLBACK');
          });
          // Nothing was written: the token is still live and rotates now.
          expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: null });

          // While idle: the pool drops the dead connections (its 'error' listener keeps the process alive).
          await Promise.all(Array.from({ length: 4 }, () => store.counts()));
          await kill();
          await new Promise((resolve) => setTimeout(resolve, 200));
          expect(await store.rotateRefreshToken(g.rotation())).toBe('rotated');
        } finally {
          await store.close();
        }
      },
    );

    it(
      'when the network path to the server goes away the store answers StoreUnavailableError, and recovers when ' +
        'it comes back',
      async () => {
        const target = new URL(db.url);
        let sockets: Socket[] = [];
        const startProxy = async (port = 0): Promise<Server> => {
          const proxy = createServer((client) => {
            const upstream = new Socket();
            sockets.push(client, upstream);
            upstream.connect(Number(target.port || 5432), target.hostname);
            client.pipe(upstream).pipe(client);
            client.on('error', () => upstream.destroy());
            upstream.on('error', () => client.destroy());
          });
          await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
          return proxy;
        };
        let proxy = await startProxy();
        const port = (proxy.address() as AddressInfo).port;
        const via = new URL(db.url);
        via.host = `127.0.0.1:${port}`;
        const store = openStore(via.toString());
        try {
          const g = await issue(store);
          // The proxy dies: open connections are cut, new ones refused.
          await new Promise<void>((resolve) => {
            proxy.close(() => resolve());
            for (const socket of sockets) socket.destroy();
            sockets = [];
          });
          const error = await rejection(store.findRefreshToken(g.refresh.hash));
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect(await rejection(store.rotateRefreshToken(g.rotation()))).toBeInstanceOf(StoreUnavailableError);
          // Back on the same port: the same store serves again, and nothing was written meanwhile.
          proxy = await startProxy(port);
          expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: null });
          expect(await store.rotateRefreshToken(g.rotation())).toBe('rotated');
        } finally {
          await store.close();
          for (const socket of sockets) socket.destroy();
          await new Promise((resolve) => proxy.close(resolve));
        }
      },
    );
  });
} else {
  describe.skip('PostgreSQL store (PostgreSQL unreachable)', () => {
    it('runs the Store contract on PostgreSQL', () => {});
  });
}
