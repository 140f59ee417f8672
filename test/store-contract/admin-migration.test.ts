/**
 * Migration 9 (src/store/migrations/v9-admin.ts) on a store written by version 8, in each backend: every row
 * stays, existing users are not admins and start at version 1, as do clients, and the store's new reads
 * (userIsAdmin with a token, audit ids and paging, keyset listings) work on the upgraded rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import { migrations } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/store.js';
import { createTestDatabase, postgresAvailable, withClient } from '../helpers/postgres.js';

const T = 1_700_000_000;

/** A fresh location of one backend, with raw SQL on it (`?` placeholders on SQLite, `$n` on PostgreSQL). */
interface Backend {
  url: string;
  sql(statement: string, params?: unknown[]): Promise<void>;
  /** Applies migrations 1 to `version` and records them, as a store of that version would have. */
  migrateTo(version: number): Promise<void>;
  /** Booleans as the backend stores them. */
  bool(value: boolean): unknown;
  p(n: number): string;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'oauthd-v9-'));
  const path = join(dir, 'oauthd.sqlite3');
  const run = (work: (db: Database.Database) => void) => {
    const db = new Database(path);
    try {
      work(db);
    } finally {
      db.close();
    }
  };
  return {
    url: `sqlite:${path}`,
    async sql(statement, params = []) {
      run((db) => db.prepare(statement).run(...params));
    },
    async migrateTo(version) {
      run((db) => {
        db.exec(
          'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER ' +
            'NOT NULL) STRICT',
        );
        for (const m of migrations.filter((m) => m.version <= version)) {
          db.exec(m.sqlite);
          db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, T);
        }
      });
    },
    bool: (value) => (value ? 1 : 0),
    p: () => '?',
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const db = await createTestDatabase();
  return {
    url: db.url,
    sql: (statement, params = []) => withClient(db.url, async (c) => void (await c.query(statement, params))),
    async migrateTo(version) {
      await withClient(db.url, async (c) => {
        await c.query(
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint ' +
            'NOT NULL)',
        );
        for (const m of migrations.filter((m) => m.version <= version)) {
          await c.query(m.postgres);
          await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.version, m.name, T]);
        }
      });
    },
    bool: (value) => value,
    p: (n) => `$${n}`,
    cleanup: () => db.drop(),
  };
}

const backends: [string, () => Promise<Backend>][] = [['sqlite', async () => sqliteBackend()]];
if (await postgresAvailable('the migration-9 checks on PostgreSQL (test/store-contract/admin-migration.test.ts)')) {
  backends.push(['postgres', postgresBackend]);
}

describe.each(backends)('migration 9: admin flag and versions (%s)', (_name, make) => {
  let backend: Backend | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
    store = undefined;
    backend = undefined;
  });

  const values = (b: Backend, n: number) => `(${Array.from({ length: n }, (_, i) => b.p(i + 1)).join(', ')})`;

  it('keeps every row of a version-8 store: users are not admins, users and clients are at version 1', async () => {
    const b = await make();
    backend = b;
    expect(migrations.map((m) => m.version).at(-1)).toBe(9);
    await b.migrateTo(8);
    await b.sql(
      `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, created_at, updated_at)
       VALUES ${values(b, 8)}`,
      ['app', 'App', 'h', b.bool(false), 'password refresh_token', 'read', T, T],
    );
    for (const [id, username] of [
      [7, 'zed'],
      [8, 'amy'],
    ] as const) {
      await b.sql(
        `INSERT INTO users (id, username, password_hash, is_active, created_at, updated_at) VALUES ${values(b, 6)}`,
        [id, username, 'p', b.bool(true), T, T + 1],
      );
    }
    await b.sql(`INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES ${values(b, 5)}`, [
      'g1',
      'app',
      7,
      'read',
      T,
    ]);
    const access = tokenKey(mintToken(Date.now()));
    await b.sql(
      `INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES ${values(b, 5)}`,
      [access, 'g1', 'read', T, T + 3600],
    );
    await b.sql(`INSERT INTO audit_events (at, event, user_id, username, detail) VALUES ${values(b, 5)}`, [
      T,
      'user.created',
      7,
      'zed',
      '{}',
    ]);

    store = openStore(b.url);
    await store.migrate();

    expect(await store.findClient('app')).toMatchObject({ name: 'App', secretHash: 'h', version: 1 });
    expect(await store.findUserByUsername('zed')).toEqual({
      id: 7,
      username: 'zed',
      passwordHash: 'p',
      isActive: true,
      isAdmin: false,
      version: 1,
      createdAt: T,
      updatedAt: T + 1,
    });
    expect(await store.findAccessToken(access)).toMatchObject({ userId: 7, userIsActive: true, userIsAdmin: false });
    expect((await store.listUsers({ limit: 10 })).map((u) => u.username)).toEqual(['amy', 'zed']);
    const [event] = await store.queryAuditEvents({ userId: 7, limit: 10 });
    expect(event).toMatchObject({ id: expect.any(Number), event: 'user.created', username: 'zed' });
    expect(await store.queryAuditEvents({ before: { at: T, id: event!.id! }, limit: 10 })).toEqual([]);
    // The upgraded rows take part in the new writes as any other.
    expect(await store.updateUser('zed', { isAdmin: true }, { now: T + 2, ifVersion: 1 })).toMatchObject({
      status: 'updated',
      user: { isAdmin: true, version: 2 },
    });
    expect(await store.findAccessToken(access)).toMatchObject({ userIsAdmin: true });
    expect(await store.updateClient('app', { name: 'App 2' }, T + 3, { ifVersion: 1 })).toMatchObject({ version: 2 });
  });
});
