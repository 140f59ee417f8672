import type Database from 'better-sqlite3';
import type { ClientUsage, ClientUsageStore } from '../../core/ports.js';
import type { SqliteConnection } from './connection.js';

/**
 * Token requests per client, grant type and UTC day. The server counts them in memory and adds a batch every
 * few seconds, so this is no write per request; each batch is one transaction of upserts.
 */
export function sqliteUsage(conn: SqliteConnection): ClientUsageStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareUsageStatements> | undefined;
  const sql = () => {
    statements ??= prepareUsageStatements(db);
    return statements;
  };
  const record = db.transaction((usage: readonly ClientUsage[]) => {
    for (const u of usage) sql().add.run(u.clientId, u.grantType, u.day, u.requests, u.lastUsedAt);
  });
  return {
    async recordClientUsage(usage) {
      if (usage.length === 0) return;
      // No token changes: the access-token cache stays.
      await conn.commitDurably(() => record.immediate(usage), { changesNoToken: true });
    },
    async listClientUsage({ clientId, sinceDay }) {
      const rows = clientId === undefined ? sql().since.all(sinceDay) : sql().ofClientSince.all(clientId, sinceDay);
      return rows as ClientUsage[];
    },
  };
}

function prepareUsageStatements(db: Database.Database) {
  const columns = `client_id AS clientId, grant_type AS grantType, day, requests, last_used_at AS lastUsedAt`;
  return {
    add: db.prepare(`INSERT INTO client_usage (client_id, grant_type, day, requests, last_used_at)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (client_id, grant_type, day) DO UPDATE
      SET requests = requests + excluded.requests, last_used_at = max(last_used_at, excluded.last_used_at)`),
    since: db.prepare(`SELECT ${columns} FROM client_usage WHERE day >= ? ORDER BY client_id, grant_type, day`),
    ofClientSince: db.prepare(
      `SELECT ${columns} FROM client_usage WHERE client_id = ? AND day >= ? ORDER BY grant_type, day`,
    ),
  };
}
