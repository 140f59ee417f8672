import type { ClientChanges, ClientStore, ListQuery, NewClient } from '../../core/ports.js';
import type { Client, EpochSeconds } from '../../core/types.js';
import { comparableVersion, joinList, policyPatch, storedPolicy, toClient, type ClientRow } from '../rows.js';
import type { PostgresConnection, Query } from './connection.js';
import { revokeGrantsWhere } from './tokens.js';

export function postgresClients({ query, inTransaction }: PostgresConnection): ClientStore {
  return {
    async createClient(client: NewClient) {
      const { rowCount } = await query(
        `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect,
           default_scopes, policy, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $10, $8, $8) ON CONFLICT (client_id) DO NOTHING`,
        [
          client.clientId,
          client.name,
          client.secretHash,
          client.isPublic,
          joinList(client.grantTypes),
          joinList(client.scopes),
          client.canIntrospect === true,
          client.createdAt,
          client.defaultScopes ? joinList(client.defaultScopes) : null,
          storedPolicy(client.policy),
        ],
      );
      return rowCount === 1 ? 'created' : 'exists';
    },

    updateClient: (clientId, changes, now, options) =>
      updateClient(query, clientId, changes, now, comparableVersion(options?.ifVersion ?? null)),

    async revokeClientGrants(clientId, { grantType, now }) {
      return inTransaction((tx) =>
        revokeGrantsWhere(tx, 'client_id = $2 AND grant_type = $3', clientId, now, grantType),
      );
    },

    async countLiveClientGrants(clientId, now) {
      // As LIVE_GRANTS_OF_USER (postgres/users.ts) judges a grant live: a usable refresh or access token.
      const { rows } = await query<{ grants: string; users: string }>(
        `SELECT count(*) AS grants, count(DISTINCT g.user_id) AS users
          FROM grants g WHERE g.client_id = $1 AND g.revoked_at IS NULL AND (
            EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL
              AND r.revoked_at IS NULL AND (r.expires_at IS NULL OR r.expires_at > $2))
            OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL
              AND a.expires_at > $2))`,
        [clientId, now],
      );
      return { grants: Number(rows[0]?.grants ?? 0), users: Number(rows[0]?.users ?? 0) };
    },

    async findClient(clientId) {
      const { rows } = await query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
      return rows[0] ? toClient(rows[0]) : null;
    },

    async listClients(listQuery) {
      if (listQuery) {
        const { rows } = await query<ClientRow>(...clientPageSql(listQuery));
        return rows.map(toClient);
      }
      const { rows } = await query<ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id');
      return rows.map(toClient);
    },

    async deleteClient(clientId, options) {
      try {
        return await deleteClient(inTransaction, clientId, comparableVersion(options?.ifVersion ?? null));
      } catch (error) {
        if (error === VERSION_MISMATCH) return 'version_mismatch';
        throw error;
      }
    },

    async setClientSecret(clientId, secretHash, now) {
      const { rowCount } = await query(
        `UPDATE clients SET secret_hash = $1, updated_at = $2, version = version + 1
         WHERE client_id = $3 AND NOT is_public`,
        [secretHash, now, clientId],
      );
      return rowCount === 1;
    },
  };
}

/**
 * Changes the given fields in one statement, only while the version is `ifVersion` when given; when nothing
 * matched, a read after tells an unknown client from a stale version (one deleted meanwhile is unknown).
 */
async function updateClient(
  query: Query,
  clientId: string,
  changes: ClientChanges,
  now: EpochSeconds,
  ifVersion: number | null,
): Promise<Client | null | 'version_mismatch'> {
  // One statement: a field given as NULL keeps its value (default_scopes: $4 says whether to set it). The
  // policy is a JSON merge (RFC 7396): a null member takes the field back to the server's setting.
  const { rows } = await query<ClientRow>(
    `UPDATE clients SET name = coalesce($1, name), scopes = coalesce($2, scopes),
         grant_types = coalesce($3, grant_types),
         default_scopes = CASE WHEN $4 THEN $5 ELSE default_scopes END, updated_at = $6,
         policy = CASE WHEN $8::jsonb IS NULL THEN policy
           ELSE nullif(jsonb_strip_nulls(coalesce(policy, '{}'::jsonb) || $8::jsonb), '{}'::jsonb) END,
         version = version + 1
       WHERE client_id = $7 AND ($9::integer IS NULL OR version = $9) RETURNING *`,
    [
      changes.name ?? null,
      changes.scopes ? joinList(changes.scopes) : null,
      changes.grantTypes ? joinList(changes.grantTypes) : null,
      changes.defaultScopes !== undefined,
      changes.defaultScopes ? joinList(changes.defaultScopes) : null,
      now,
      clientId,
      policyPatch(changes.policy),
      ifVersion,
    ],
  );
  if (rows[0]) return toClient(rows[0]);
  if (ifVersion === null) return null;
  const found = await query('SELECT 1 FROM clients WHERE client_id = $1', [clientId]);
  return found.rowCount === 1 ? 'version_mismatch' : null;
}

/** Thrown inside deleteClient's transaction to roll it back when the client's version is not the one expected. */
const VERSION_MISMATCH = new Error('version mismatch');

/**
 * Deletes a client, its grants and their live tokens, in one transaction. With `ifVersion`, the condition is in the
 * final DELETE (no lock taken before the grants', in the order below): when the client is there with another
 * version, VERSION_MISMATCH rolls everything back.
 */
function deleteClient(
  inTransaction: PostgresConnection['inTransaction'],
  clientId: string,
  ifVersion: number | null,
): Promise<boolean> {
  // ON DELETE CASCADE removes the client's grants; their live tokens go first (tokens have no foreign key
  // to grants since migration 4). Locking the grants first waits for rotations in flight (they hold KEY
  // SHARE on their grant) and makes later ones find their grant gone, so no rotation adds a live token
  // after the DELETE below has looked. docs/design-notes.md, *Insertion-ordered token keys*.
  return inTransaction(async (tx) => {
    await tx('SELECT 1 FROM grants WHERE client_id = $1 FOR UPDATE', [clientId]);
    await tx(
      `DELETE FROM access_tokens
       WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = $1)`,
      [clientId],
    );
    await tx(
      `DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
         AND grant_id IN (SELECT id FROM grants WHERE client_id = $1)`,
      [clientId],
    );
    await tx('DELETE FROM client_usage WHERE client_id = $1', [clientId]);
    const deleted = 'DELETE FROM clients WHERE client_id = $1 AND ($2::integer IS NULL OR version = $2)';
    const { rowCount } = await tx(deleted, [clientId, ifVersion]);
    if (rowCount === 1) return true;
    if (ifVersion !== null && (await tx('SELECT 1 FROM clients WHERE client_id = $1', [clientId])).rowCount === 1) {
      throw VERSION_MISMATCH;
    }
    return false;
  });
}

/**
 * One page of the clients by client_id (COLLATE "C": byte-wise, as on SQLite), after `after`, whose id or name
 * contains `search` ASCII case-insensitively (lower() under "C", as SQLite's; strpos, not LIKE, so `%` and `_`
 * are plain characters).
 */
function clientPageSql({ search, after, limit }: ListQuery): [string, unknown[]] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (after !== undefined) {
    args.push(after);
    where.push(`client_id > $${args.length}`);
  }
  if (search !== undefined && search !== '') {
    args.push(search);
    const needle = `lower($${args.length}::text COLLATE "C")`;
    where.push(`(strpos(lower(client_id), ${needle}) > 0 OR strpos(lower(name COLLATE "C"), ${needle}) > 0)`);
  }
  args.push(limit);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return [`SELECT * FROM clients ${filter} ORDER BY client_id LIMIT $${args.length}`, args];
}
