import Database from 'better-sqlite3';
import pg from 'pg';
import type { EpochSeconds } from '../../core/types.js';

// The two drivers a DOT database is read with (./source.ts reads it), each read-only.

export type Row = Record<string, unknown>;

/** The few things the two drivers do differently. */
export interface SourceDb {
  kind: 'sqlite' | 'postgres';
  /** The table's column names, or null when there is no such table. */
  columns(table: string): Promise<Set<string> | null>;
  /** `sql` uses `?` placeholders. */
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A condition "column is later than `epoch`" for a timestamp column. */
  laterThan(column: string): string;
  /** The parameter `laterThan` compares with. */
  epochParam(epoch: EpochSeconds): unknown;
  /** Runs `work` in one read-only snapshot. */
  snapshot<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function openSqliteSource(path: string): SourceDb {
  // Read-only twice over: the connection cannot write, and query_only refuses any statement that would.
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('query_only = ON');
  db.pragma('busy_timeout = 5000');
  return {
    kind: 'sqlite',
    async columns(table) {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (!exists) return null;
      return new Set((db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[]).map((c) => c.name));
    },
    async all(sql, params = []) {
      return db.prepare(sql).all(...params) as Row[];
    },
    // Django writes SQLite datetimes as naive UTC text; julianday() reads them with or without a fraction.
    laterThan: (column) => `julianday(${quote(column)}) > julianday(?)`,
    epochParam: (epoch) => new Date(epoch * 1000).toISOString().replace('T', ' ').replace('Z', ''),
    async snapshot(work) {
      // One read transaction: every SELECT sees the same database. It is short (everything is read into
      // memory), so a DOT still writing to the file waits at most that long.
      db.exec('BEGIN');
      try {
        return await work();
      } finally {
        db.exec('COMMIT');
      }
    },
    async close() {
      db.close();
    },
  };
}

export async function openPostgresSource(url: string): Promise<SourceDb> {
  const client = new pg.Client({ connectionString: url, application_name: 'oauthd import django (read-only)' });
  client.on('error', () => {});
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    kind: 'postgres',
    async columns(table) {
      const { rows } = await client.query<{ name: string }>(
        'SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped',
        [table],
      );
      return rows.length === 0 ? null : new Set(rows.map((r) => r.name));
    },
    async all(sql, params = []) {
      return (await client.query(numbered(sql), params)).rows as Row[];
    },
    laterThan: (column) => `${quote(column)} > to_timestamp(?)`,
    epochParam: (epoch) => epoch,
    async snapshot(work) {
      // Nothing in this session can write, and every query sees one snapshot of the database.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await work();
      } finally {
        await client.query('ROLLBACK').catch(() => {});
      }
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

/** Quotes a SQL identifier (left as it is when already quoted). */
export function quote(name: string): string {
  return name.includes('"') ? name : `"${name}"`;
}
