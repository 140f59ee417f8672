import { existsSync, readFileSync } from 'node:fs';
import { dumpDatabase } from './postgres.js';
import type { TestServer } from './server.js';

/** Everything the server's store holds, as text to search: the SQLite file and its WAL, or a PostgreSQL dump. */
export async function readStoreText(server: TestServer): Promise<string> {
  const url = server.config.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return [path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('\n');
  }
  return (await dumpDatabase(url)).toString('latin1');
}
