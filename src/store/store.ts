import type { Store } from '../core/ports.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import type { SqliteStoreOptions } from './sqlite/connection.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

/**
 * Opens the store a database URL names: `sqlite:<path>` (a file, created with its directory if needed),
 * `sqlite::memory:`, or `postgres://…` / `postgresql://…` (a PostgreSQL database, which must exist; see
 * postgres/url.ts for the URL's options). Throws a one-line Error for any other URL.
 */
export function openStore(databaseUrl: string, options: { sqlite?: SqliteStoreOptions } = {}): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path === '') throw new Error('a sqlite: database URL needs a path, e.g. sqlite:./data/oauthd.sqlite3');
    return openSqliteStore(path, options.sqlite);
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    try {
      return openPostgresStore(databaseUrl);
    } catch (error) {
      throw new Error(`${(error as Error).message} in ${JSON.stringify(redactUrl(databaseUrl))}`);
    }
  }
  throw new Error(
    `unsupported database URL scheme in ${JSON.stringify(redactUrl(databaseUrl))} (expected sqlite:<path> or ` +
      `postgres://…)`,
  );
}

/** A database URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
