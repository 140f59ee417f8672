import type Database from 'better-sqlite3';
import type { ClientChanges, ClientStore, ListQuery } from '../../core/ports.js';
import type { Client, EpochSeconds } from '../../core/types.js';
import { comparableVersion, joinList, policyPatch, storedPolicy, toClient, type ClientRow } from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { grantRevoker } from './tokens.js';

/** Registered clients. Every write empties the access-token cache (commitDurably's default). */
export function sqliteClients(conn: SqliteConnection): ClientStore {
  const tx = clientTransactions(conn.db);
  const { sql } = tx;

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
          storedPolicy(c.policy),
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
    async listClients(query) {
      if (query) return conn.readInTurn(() => tx.listPage(query));
      return (sql().allClients.all() as ClientRow[]).map(toClient);
    },
    async deleteClient(clientId, options) {
      const ifVersion = comparableVersion(options?.ifVersion ?? null);
      return conn.commitDurably(() => tx.deleteClient.immediate(clientId, ifVersion));
    },
    async setClientSecret(clientId, secretHash, now) {
      return (await conn.commitDurably(() => sql().setClientSecret.run(secretHash, now, clientId))).changes === 1;
    },
    async revokeClientGrants(clientId, { grantType, now }) {
      return conn.commitDurably(() => tx.revokeClientGrants.immediate(clientId, grantType, now));
    },
    async countLiveClientGrants(clientId, now) {
      return conn.readInTurn(() => sql().countLiveGrants.get(clientId, now, now) as { grants: number; users: number });
    },
    async updateClient(clientId, changes, now, options) {
      const ifVersion = comparableVersion(options?.ifVersion ?? null);
      return conn.commitDurably(() => tx.updateClient.immediate(clientId, changes, now, ifVersion));
    },
  };
}

/** The statements and the multi-statement transactions of the client store (run with `.immediate`). */
function clientTransactions(db: Database.Database) {
  let statements: ReturnType<typeof prepareClientStatements> | undefined;
  const sql = () => (statements ??= prepareClientStatements(db));

  // The client's grants go with it (ON DELETE CASCADE); their live tokens first (tokens have no foreign key to
  // grants since migration 4). Dead ones are left to the cleanup, and no lookup finds a token without its grant.
  const deleteClient = db.transaction((clientId: string, ifVersion: number | null): boolean | 'version_mismatch' => {
    const version = sql().clientVersion.get(clientId) as number | undefined;
    if (version === undefined) return false;
    if (ifVersion !== null && version !== ifVersion) return 'version_mismatch';
    sql().deleteClientLiveAccess.run(clientId);
    sql().deleteClientLiveRefresh.run(clientId);
    sql().deleteClientUsage.run(clientId);
    return sql().deleteClient.run(clientId).changes === 1;
  });

  const revokeGrant = grantRevoker(db);
  const revokeClientGrants = db.transaction((clientId: string, grantType: string, now: number): string[] => {
    const ids = (sql().liveGrantsOfClient.all(clientId, grantType) as { id: string }[]).map((g) => g.id);
    for (const id of ids) revokeGrant(id, now);
    return ids;
  });

  // The version condition is in the UPDATE itself; when it matched nothing, a read in the same transaction tells
  // an unknown client from a stale version.
  const updateClient = db.transaction(
    (clientId: string, changes: ClientChanges, now: EpochSeconds, ifVersion: number | null) => {
      // A JSON merge patch (RFC 7396): a null member takes the field back to the server's setting.
      const patch = policyPatch(changes.policy);
      const row = sql().updateClient.get(
        changes.name ?? null,
        changes.scopes ? joinList(changes.scopes) : null,
        changes.grantTypes ? joinList(changes.grantTypes) : null,
        changes.defaultScopes !== undefined ? 1 : 0,
        changes.defaultScopes ? joinList(changes.defaultScopes) : null,
        patch,
        patch,
        now,
        clientId,
        ifVersion,
        ifVersion,
      ) as ClientRow | undefined;
      if (row) return toClient(row);
      return sql().clientVersion.get(clientId) === undefined ? null : ('version_mismatch' as const);
    },
  );

  const prepared = preparedByText(db);
  const listPage = (query: ListQuery): Client[] => {
    const { sql: text, args } = clientPageSql(query);
    return (prepared(text).all(...args) as ClientRow[]).map(toClient);
  };

  return { sql, deleteClient, revokeClientGrants, updateClient, listPage };
}

/** Statements built at run time (a listing's shape), each prepared once. */
export function preparedByText(db: Database.Database): (text: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (text) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
}

function prepareClientStatements(db: Database.Database) {
  return {
    insertClient: db.prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes,
        can_introspect, default_scopes, policy, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING`),
    // One statement: a field given as NULL keeps its value (default_scopes: the flag says whether to set it).
    updateClient: db.prepare(`UPDATE clients SET name = coalesce(?, name), scopes = coalesce(?, scopes),
        grant_types = coalesce(?, grant_types), default_scopes = CASE WHEN ? THEN ? ELSE default_scopes END,
        policy = CASE WHEN ? IS NULL THEN policy ELSE nullif(json_patch(coalesce(policy, '{}'), ?), '{}') END,
        updated_at = ?, version = version + 1
      WHERE client_id = ? AND (? IS NULL OR version = ?) RETURNING *`),
    clientVersion: db.prepare('SELECT version FROM clients WHERE client_id = ?').pluck(),
    clientById: db.prepare('SELECT * FROM clients WHERE client_id = ?'),
    allClients: db.prepare('SELECT * FROM clients ORDER BY created_at, client_id'),
    deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),
    deleteClientLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    deleteClientLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    deleteClientUsage: db.prepare('DELETE FROM client_usage WHERE client_id = ?'),
    // As LIVE_GRANTS_OF_USER (sqlite/users.ts) judges a grant live: a usable refresh or access token.
    countLiveGrants: db.prepare(`SELECT count(*) AS grants, count(DISTINCT g.user_id) AS users
      FROM grants g WHERE g.client_id = ? AND g.revoked_at IS NULL AND (
        EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL
          AND r.revoked_at IS NULL AND (r.expires_at IS NULL OR r.expires_at > ?))
        OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL
          AND a.expires_at > ?))`),
    liveGrantsOfClient: db.prepare(
      'SELECT id FROM grants WHERE client_id = ? AND grant_type = ? AND revoked_at IS NULL',
    ),
    setClientSecret: db.prepare(
      'UPDATE clients SET secret_hash = ?, updated_at = ?, version = version + 1 WHERE client_id = ? AND is_public = 0',
    ),
  };
}

/**
 * One page of the clients by client_id (BINARY: byte-wise), after `after`, whose id or name contains `search`
 * (ASCII case-insensitively: SQLite's lower(); instr, not LIKE, so `%` and `_` are plain characters). One
 * statement per shape, so the page after `after` starts from the primary key's index.
 */
function clientPageSql({ search, after, limit }: ListQuery): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (after !== undefined) {
    where.push('client_id > ?');
    args.push(after);
  }
  if (search !== undefined && search !== '') {
    where.push('(instr(lower(client_id), lower(?)) > 0 OR instr(lower(name), lower(?)) > 0)');
    args.push(search, search);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM clients ${filter} ORDER BY client_id LIMIT ?`, args: [...args, limit] };
}
