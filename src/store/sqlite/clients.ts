import type Database from 'better-sqlite3';
import type { ClientStore } from '../../core/ports.js';
import { joinList, toClient, type ClientRow } from '../rows.js';
import type { SqliteConnection } from './connection.js';

/** Registered clients. Every write empties the access-token cache (commitDurably's default). */
export function sqliteClients(conn: SqliteConnection): ClientStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareClientStatements> | undefined;
  const sql = () => (statements ??= prepareClientStatements(db));

  // The client's grants go with it (ON DELETE CASCADE); their live tokens first (tokens have no foreign key to
  // grants since migration 4). Dead ones are left to the cleanup, and no lookup finds a token without its grant.
  const deleteClient = db.transaction((clientId: string): boolean => {
    sql().deleteClientLiveAccess.run(clientId);
    sql().deleteClientLiveRefresh.run(clientId);
    return sql().deleteClient.run(clientId).changes === 1;
  });

  return {
    async createClient(c) {
      const info = await conn.commitDurably(() =>
        sql().insertClient.run(
          c.clientId,
          c.name,
          c.secretHash,
          c.isPublic ? 1 : 0,
          joinList(c.grantTypes),
          joinList(c.scopes),
          c.canIntrospect === true ? 1 : 0,
          c.defaultScopes ? joinList(c.defaultScopes) : null,
          c.createdAt,
          c.createdAt,
        ),
      );
      return info.changes === 1 ? 'created' : 'exists';
    },
    async findClient(clientId) {
      const row = conn.readInTurn(() => sql().clientById.get(clientId)) as ClientRow | undefined;
      return row ? toClient(row) : null;
    },
    async listClients() {
      return (sql().allClients.all() as ClientRow[]).map(toClient);
    },
    async deleteClient(clientId) {
      return conn.commitDurably(() => deleteClient.immediate(clientId));
    },
    async setClientSecret(clientId, secretHash, now) {
      return (await conn.commitDurably(() => sql().setClientSecret.run(secretHash, now, clientId))).changes === 1;
    },
    async updateClient(clientId, changes, now) {
      const row = (await conn.commitDurably(() =>
        sql().updateClient.get(
          changes.name ?? null,
          changes.scopes ? joinList(changes.scopes) : null,
          changes.grantTypes ? joinList(changes.grantTypes) : null,
          changes.defaultScopes !== undefined ? 1 : 0,
          changes.defaultScopes ? joinList(changes.defaultScopes) : null,
          now,
          clientId,
        ),
      )) as ClientRow | undefined;
      return row ? toClient(row) : null;
    },
  };
}

function prepareClientStatements(db: Database.Database) {
  return {
    insertClient: db.prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes,
        can_introspect, default_scopes, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING`),
    // One statement: a field given as NULL keeps its value (default_scopes: the flag says whether to set it).
    updateClient: db.prepare(`UPDATE clients SET name = coalesce(?, name), scopes = coalesce(?, scopes),
        grant_types = coalesce(?, grant_types), default_scopes = CASE WHEN ? THEN ? ELSE default_scopes END,
        updated_at = ?
      WHERE client_id = ? RETURNING *`),
    clientById: db.prepare('SELECT * FROM clients WHERE client_id = ?'),
    allClients: db.prepare('SELECT * FROM clients ORDER BY created_at, client_id'),
    deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),
    deleteClientLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    deleteClientLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    setClientSecret: db.prepare(
      'UPDATE clients SET secret_hash = ?, updated_at = ? WHERE client_id = ? AND is_public = 0',
    ),
  };
}
