import Database from 'better-sqlite3';
import pg from 'pg';
import { existsSync, readFileSync } from 'node:fs';
import { dumpDatabase } from './postgres.js';
import type { TestServer } from './server.js';

/** Everything the server's store holds, as text to search: the SQLite file and its WAL, or a PostgreSQL dump. */
export async function readStoreText(server: TestServer): Promise<string> {
  const url = server.config.store.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return [path, `${path}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }
  return (await dumpDatabase(url)).toString('latin1');
}

/** Row counts of the token tables, read straight from the database (SQLite read-only, or PostgreSQL). */
export async function tokenRowCounts(server: TestServer): Promise<{ grants: number; access: number; refresh: number }> {
  const sql = `SELECT (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM access_tokens) AS access,
    (SELECT count(*) FROM refresh_tokens) AS refresh`;
  const url = server.config.store.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).get() as { grants: number; access: number; refresh: number };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ grants: string; access: string; refresh: string }>(sql);
    const row = rows[0]!;
    return { grants: Number(row.grants), access: Number(row.access), refresh: Number(row.refresh) };
  } finally {
    await client.end();
  }
}

/** Every sealed successor (refresh_tokens.successor_response) the store holds, read straight from the database. */
export async function sealedSuccessors(server: TestServer): Promise<Buffer[]> {
  const sql = 'SELECT successor_response AS sealed FROM refresh_tokens WHERE successor_response IS NOT NULL';
  const url = server.config.store.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(sql).all() as { sealed: Buffer }[]).map((r) => r.sealed);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ sealed: Buffer }>(sql)).rows.map((r) => r.sealed);
  } finally {
    await client.end();
  }
}
