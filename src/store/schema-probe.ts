import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import { redactUrl } from './store.js';

/** The schema version the code expects. */
export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/**
 * What a database URL holds, read without creating or changing anything: no database at all (`missing`:
 * no SQLite file, or a PostgreSQL database that does not exist), a database without oauthd's schema
 * (`empty`), or the schema at some version. The CLI asks before any command but `migrate` and `serve`, so
 * a command run from the wrong directory cannot create an empty store and report success.
 */
export type SchemaState = { kind: 'missing' } | { kind: 'empty' } | { kind: 'migrated'; version: number };

export async function probeSchema(databaseUrl: string): Promise<SchemaState> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'empty' };
    if (!existsSync(path)) return { kind: 'missing' };
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
      if (!table) return { kind: 'empty' };
      const row = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
      return row.v > 0 ? { kind: 'migrated', version: row.v } : { kind: 'empty' };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    // 3D000: invalid_catalog_name, the database does not exist.
    if ((error as { code?: string }).code === '3D000') return { kind: 'missing' };
    throw new Error(`cannot connect to ${redactUrl(databaseUrl)}: ${(error as Error).message}`);
  }
  try {
    const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (rows[0]?.t == null) return { kind: 'empty' };
    const version = await client.query<{ v: number }>(
      'SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations',
    );
    const v = version.rows[0]?.v ?? 0;
    return v > 0 ? { kind: 'migrated', version: v } : { kind: 'empty' };
  } finally {
    await client.end();
  }
}
