/**
 * Migration 4 (src/store/migrations): token tables indexed by grant only while live, without foreign keys to
 * grants. What the contract cannot see through the Store interface, checked in the rows of each backend:
 * - a store upgraded from version 3 keeps every token, and knows which grants were ever rotated (the live
 *   refresh token of such a grant is marked from_rotation);
 * - no token row outlives its grant for good: deleting a client deletes its grants' live tokens, and the
 *   cleanup removes a revoked grant together with any live token it still has, the rest by their own criteria.
 * And migration 5, in the same rows: an upgraded store keeps its clients, none of them a resource server
 * (`can_introspect`), and the database refuses to mark a public client as one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';
import { newGrantId } from '../../src/core/ids.js';
import { migrations } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/store.js';
import { createTestDatabase, postgresAvailable, withClient } from '../helpers/postgres.js';

const T = 1_700_000_000;
const TTL = 3600;

/** A backend under test: a fresh location, raw SQL on it, and its store. */
interface Backend {
  url: string;
  /** Runs one SQL statement with positional parameters (`?` on SQLite, `$n` on PostgreSQL), returns its rows. */
  sql(statement: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Applies the given migrations' SQL and records them, as a store of that version would have. */
  migrateTo(version: number): Promise<void>;
  /** Token tables' foreign keys, as "table.column". */
  tokenForeignKeys(): Promise<string[]>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'oauthd-grant-index-'));
  const path = join(dir, 'oauthd.sqlite3');
  const run = (work: (db: Database.Database) => unknown) => {
    const db = new Database(path);
    try {
      return work(db);
    } finally {
      db.close();
    }
  };
  return {
    url: `sqlite:${path}`,
    async sql(statement, params = []) {
      return run((db) => {
        const st = db.prepare(statement);
        if (st.reader) return st.all(...params);
        st.run(...params);
        return [];
      }) as Record<string, unknown>[];
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
    async tokenForeignKeys() {
      return run((db) =>
        ['access_tokens', 'refresh_tokens'].flatMap((t) =>
          (db.prepare(`SELECT "from" FROM pragma_foreign_key_list('${t}')`).all() as { from: string }[]).map(
            (r) => `${t}.${r.from}`,
          ),
        ),
      ) as string[];
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const db = await createTestDatabase();
  return {
    url: db.url,
    sql: (statement, params = []) => withClient(db.url, async (c) => (await c.query(statement, params)).rows),
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
    tokenForeignKeys: () =>
      withClient(db.url, async (c) =>
        (
          await c.query<{ fk: string }>(
            `SELECT tc.table_name || '.' || kcu.column_name AS fk FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name IN ('access_tokens', 'refresh_tokens')`,
          )
        ).rows.map((r) => r.fk),
      ),
    cleanup: () => db.drop(),
  };
}

const backends: [string, () => Promise<Backend>][] = [['sqlite', async () => sqliteBackend()]];
if (await postgresAvailable('the migration-4 row checks on PostgreSQL (test/store-contract/grant-index.test.ts)')) {
  backends.push(['postgres', postgresBackend]);
}

describe.each(backends)('token tables by grant (%s)', (name, make) => {
  const p = (n: number) => (name === 'sqlite' ? '?' : `$${n}`);
  let backend: Backend | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
    store = undefined;
    backend = undefined;
  });

  /** Token rows whose grant no longer exists. */
  const orphans = async (b: Backend) =>
    Number(
      (
        await b.sql(`SELECT
            (SELECT count(*) FROM access_tokens a WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = a.grant_id))
            + (SELECT count(*) FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = r.grant_id))
            AS n`)
      )[0]!.n,
    );

  async function family(s: Store, clientId: string, userId: number) {
    const grantId = newGrantId(Date.now());
    const access = { hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: T, expiresAt: T + TTL };
    const refresh = { hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: T, expiresAt: null };
    expect(
      await s.issueTokens({ grant: { id: grantId, clientId, userId, scope: ['read'], createdAt: T }, access, refresh }),
    ).toBe('issued');
    let live = refresh.hash;
    return {
      grantId,
      access: access.hash,
      get live() {
        return live;
      },
      async rotate(at: number) {
        const next = { hash: tokenKey(mintToken(Date.now())), scope: ['read'], issuedAt: at, expiresAt: null };
        const nextAccess = {
          hash: tokenKey(mintToken(Date.now())),
          scope: ['read'],
          issuedAt: at,
          expiresAt: at + TTL,
        };
        const r = await s.rotateRefreshToken({
          presentedHash: live,
          grantId,
          access: nextAccess,
          refresh: next,
          now: at,
          successorResponse: null,
        });
        expect(r).toBe('rotated');
        live = next.hash;
      },
    };
  }

  async function seeded(b: Backend) {
    const s = openStore(b.url);
    await s.migrate();
    for (const c of ['x', 'y']) {
      await s.createClient({
        clientId: c,
        name: c,
        secretHash: null,
        isPublic: true,
        grantTypes: ['password', 'refresh_token'],
        scopes: ['read'],
        createdAt: T,
      });
    }
    await s.createUser({ username: 'u', passwordHash: null, isActive: true, createdAt: T });
    const user = (await s.findUserByUsername('u'))!;
    return { s, userId: user.id };
  }

  it(
    'upgrading a version-3 store keeps every token, drops the token tables’ foreign keys, and marks the live ' +
      'token of a rotated grant',
    async () => {
      backend = await make();
      await backend.migrateTo(3);
      const b = backend;
      await b.sql(`INSERT INTO clients VALUES (${[1, 2, 3, 4, 5, 6, 7, 8].map(p).join(', ')})`, [
        'x',
        'x',
        null,
        name === 'sqlite' ? 1 : true,
        'password refresh_token',
        'read',
        T,
        T,
      ]);
      await b.sql(
        `INSERT INTO users (id, username, password_hash, is_active, created_at, updated_at) VALUES ` +
          `(${[1, 2, 3, 4, 5, 6].map(p).join(', ')})`,
        [7, 'u', null, name === 'sqlite' ? 1 : true, T, T],
      );
      const keys = Array.from({ length: 5 }, () => tokenKey(randomOld()));
      for (const g of ['rotated-grant', 'fresh-grant']) {
        await b.sql(
          `INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES ` +
            `(${[1, 2, 3, 4, 5].map(p).join(', ')})`,
          [g, 'x', 7, 'read', T],
        );
      }
      const access =
        `INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at, revoked_at) VALUES ` +
        `(${[1, 2, 3, 4, 5, 6].map(p).join(', ')})`;
      const refresh =
        `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at, ` +
        `used_at) VALUES (${[1, 2, 3, 4, 5, 6, 7].map(p).join(', ')})`;
      await b.sql(access, [keys[0], 'rotated-grant', 'read', T, T + TTL, T + 5]);
      await b.sql(refresh, [keys[1], 'rotated-grant', keys[0], 'read', T, null, T + 5]); // used
      await b.sql(refresh, [keys[2], 'rotated-grant', null, 'read', T + 5, null, null]); // its successor, live
      await b.sql(access, [keys[3], 'fresh-grant', 'read', T, T + TTL, null]);
      await b.sql(refresh, [keys[4], 'fresh-grant', keys[3], 'read', T, null, null]);

      store = openStore(b.url);
      await store.migrate();
      expect(await b.tokenForeignKeys()).toEqual([]);
      const marked = await b.sql(
        `SELECT grant_id, used_at, from_rotation FROM refresh_tokens ORDER BY grant_id, issued_at`,
      );
      expect(marked.map((r) => [r.grant_id, r.used_at === null ? 'live' : 'used', Number(r.from_rotation)])).toEqual([
        ['fresh-grant', 'live', 0],
        ['rotated-grant', 'used', 0],
        ['rotated-grant', 'live', 1],
      ]);
      expect(await store.findAccessToken(keys[0]!)).toMatchObject({ grantId: 'rotated-grant', revokedAt: T + 5 });
      expect(await store.findRefreshToken(keys[1]!)).toMatchObject({ grantId: 'rotated-grant', usedAt: T + 5 });
      expect(await store.findRefreshToken(keys[2]!)).toMatchObject({
        grantId: 'rotated-grant',
        usedAt: null,
        revokedAt: null,
      });
      expect(await store.findAccessToken(keys[3]!)).toMatchObject({
        grantId: 'fresh-grant',
        userId: 7,
        revokedAt: null,
      });
      expect(await store.findRefreshToken(keys[4]!)).toMatchObject({ grantId: 'fresh-grant', usedAt: null });
      // And the upgraded store works on: revoking the fresh grant reaches its live tokens.
      await store.revokeGrant('fresh-grant', T + 9);
      expect(
        Number(
          (await b.sql(`SELECT revoked_at FROM refresh_tokens WHERE token_hash = ${p(1)}`, [keys[4]]))[0]!.revoked_at,
        ),
      ).toBe(T + 9);
    },
  );

  it('a refresh token a rotation wrote is marked from_rotation; one a grant was issued with is not', async () => {
    backend = await make();
    const { s, userId } = await seeded(backend);
    store = s;
    const a = await family(s, 'x', userId);
    const b = await family(s, 'x', userId);
    await a.rotate(T + 1);
    await a.rotate(T + 2);
    const rows = await backend.sql(
      `SELECT grant_id, issued_at, from_rotation FROM refresh_tokens WHERE grant_id IN (${p(1)}, ${p(2)}) ` +
        `ORDER BY issued_at`,
      [a.grantId, b.grantId],
    );
    const mark = (grantId: string) => rows.filter((r) => r.grant_id === grantId).map((r) => Number(r.from_rotation));
    expect(mark(a.grantId)).toEqual([0, 1, 1]);
    expect(mark(b.grantId)).toEqual([0]);
  });

  it(
    'deleting a client deletes its grants’ live tokens; the cleanup removes the rest: no token row outlives its ' +
      'grant',
    async () => {
      backend = await make();
      const { s, userId } = await seeded(backend);
      store = s;
      const gone = [await family(s, 'x', userId), await family(s, 'x', userId)];
      await gone[0]!.rotate(T + 1);
      await gone[0]!.rotate(T + 2);
      const kept = await family(s, 'y', userId);
      await kept.rotate(T + 3);
      expect(await s.deleteClient('x')).toBe(true);

      // At once: no live token of the deleted client is left (what no criterion of the cleanup would reach).
      const liveOfGone = await backend.sql(
        `SELECT count(*) AS n FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN ` +
          `(${p(1)}, ${p(2)})`,
        [gone[0]!.grantId, gone[1]!.grantId],
      );
      expect(Number(liveOfGone[0]!.n)).toBe(0);
      // After the cleanup, once every access token has expired: no orphan at all, and the other client's
      // live refresh token is still there.
      await s.deleteExpired({ now: T + TTL + 100, retentionSeconds: 0, limit: 1000 });
      expect(await orphans(backend)).toBe(0);
      expect(await s.findRefreshToken(kept.live)).toMatchObject({
        grantId: kept.grantId,
        usedAt: null,
        revokedAt: null,
      });
    },
  );

  it(
    'the cleanup removes a revoked grant together with a live token it still has (one a rotation racing its ' +
      'revocation wrote)',
    async () => {
      backend = await make();
      const { s, userId } = await seeded(backend);
      store = s;
      const f = await family(s, 'x', userId);
      await s.revokeGrant(f.grantId, T + 1);
      // What a rotation committed after the revocation's UPDATE had looked would leave: a live row in a revoked grant.
      const late = tokenKey(mintToken(Date.now()));
      await backend.sql(
        `INSERT INTO refresh_tokens (token_hash, grant_id, scope, issued_at) VALUES (${p(1)}, ${p(2)}, ` +
          `${p(3)}, ${p(4)})`,
        [late, f.grantId, 'read', T + 1],
      );
      expect(await s.findRefreshToken(late)).toMatchObject({ revokedAt: T + 1 }); // dead through its grant already
      await s.deleteExpired({ now: T + TTL + 100, retentionSeconds: 10, limit: 1000 });
      expect(await backend.sql(`SELECT 1 FROM grants WHERE id = ${p(1)}`, [f.grantId])).toEqual([]);
      expect(await orphans(backend)).toBe(0);
    },
  );

  it(
    'upgrading a version-4 store keeps every client, none of them a resource server, and refuses to mark a ' +
      'public client as one',
    async () => {
      backend = await make();
      await backend.migrateTo(4);
      const insert = `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, created_at,
        updated_at)
        VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, 'password refresh_token', 'read introspection', ${p(5)}, ${p(6)})`;
      await backend.sql(insert, ['confidential', 'c', 'sha256$x', name === 'sqlite' ? 0 : false, T, T]);
      await backend.sql(insert, ['public', 'p', null, name === 'sqlite' ? 1 : true, T, T]);
      store = openStore(backend.url);
      await store.migrate();
      expect((await store.listClients()).map((c) => [c.clientId, c.isPublic, c.canIntrospect, c.scopes])).toEqual([
        ['confidential', false, false, ['read', 'introspection']],
        ['public', true, false, ['read', 'introspection']],
      ]);
      const mark = `UPDATE clients SET can_introspect = ${name === 'sqlite' ? 1 : 'true'} WHERE client_id = ${p(1)}`;
      await backend.sql(mark, ['confidential']);
      await expect(backend.sql(mark, ['public'])).rejects.toThrow();
      await store.close();
      store = openStore(backend.url);
      expect((await store.findClient('confidential'))?.canIntrospect).toBe(true);
      expect((await store.findClient('public'))?.canIntrospect).toBe(false);
    },
  );
});

/** A token as oauthd minted them before the time prefix: 43 characters. */
function randomOld(): string {
  return Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64url');
}
