import Database from 'better-sqlite3';
import { withClient } from '../helpers/postgres.js';
import { TEST_STORE, type TestServer } from '../helpers/server.js';

export interface DatabaseSnapshot {
  counts: Record<string, number>;
  /** Every row of every table, in primary-key order, BLOBs as hex. */
  rows: Record<string, unknown[][]>;
}

/** Each table and its primary key. */
const SNAPSHOT_TABLES = {
  clients: 'client_id',
  users: 'id',
  grants: 'id',
  access_tokens: 'token_hash',
  refresh_tokens: 'token_hash',
};
const hexBlobs = (rows: unknown[][]) => rows.map((row) => row.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));

/**
 * Every row of the store's tables, read behind the server's back: the SQLite file through a second,
 * read-only connection (WAL lets it read while the server runs), or the PostgreSQL database.
 */
export async function databaseSnapshot(server: TestServer): Promise<DatabaseSnapshot> {
  const counts: Record<string, number> = {};
  const rows: Record<string, unknown[][]> = {};
  if (TEST_STORE === 'postgres') {
    await withClient(server.config.store.databaseUrl, async (client) => {
      for (const [table, key] of Object.entries(SNAPSHOT_TABLES)) {
        counts[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
        const all = await client.query({ text: `SELECT * FROM ${table} ORDER BY ${key}`, rowMode: 'array' });
        rows[table] = hexBlobs(all.rows as unknown[][]);
      }
    });
    return { counts, rows };
  }
  const db = new Database(server.databasePath, { readonly: true, fileMustExist: true });
  try {
    for (const [table, key] of Object.entries(SNAPSHOT_TABLES)) {
      counts[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      rows[table] = hexBlobs(db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).raw().all() as unknown[][]);
    }
    return { counts, rows };
  } finally {
    db.close();
  }
}
