import pg from 'pg';
import type { NewClient } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import type { ImportGrant, ImportGrantResult, ImportTarget, ImportUser, ImportUserResult } from '../import-target.js';
import { migrations } from '../migrations/index.js';
import { joinList } from '../rows.js';
import { parsePostgresUrl } from './url.js';

const INT8_OID = 20;
/** Rotated since import: its live refresh token is one a rotation wrote (migration 4); walks the live index. */
const ROTATED_SINCE_IMPORT =
  'SELECT 1 FROM refresh_tokens WHERE grant_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND from_rotation';
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * The import target on PostgreSQL (see ../import-target.ts for the contract): one connection of its own,
 * READ COMMITTED like the store, each method one short transaction. Writes that race a running server
 * are conditional (`… AND revoked_at IS NULL`, `… AND NOT EXISTS (used refresh token)`), and revocation
 * locks in the store's order (grant, then refresh tokens, then access tokens), so it never deadlocks with
 * a rotation. A dry run's session is READ ONLY.
 */
export async function openPostgresImportTarget(url: string, options: { dryRun: boolean }): Promise<ImportTarget> {
  const { dryRun } = options;
  const { connectionString, statementTimeoutMs, sessionOptions } = parsePostgresUrl(url);
  const readOnly = dryRun ? ' -c default_transaction_read_only=on' : '';
  const client = new pg.Client({
    connectionString,
    statement_timeout: statementTimeoutMs,
    application_name: 'oauthd import',
    options: sessionOptions + readOnly,
    types,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    await checkSchema(client);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }

  const wouldCreateUsers = new Set<string>();
  const wouldCreateClients = new Set<string>();
  const q: Query = (text, values = []) => client.query(text, values);

  const tx = async <T>(work: () => Promise<T>): Promise<T> => {
    await q('BEGIN');
    try {
      const result = await work();
      await q('COMMIT');
      return result;
    } catch (error) {
      await q('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  /** Revokes the grants `where` selects, then their refresh tokens, then their access tokens (lock order). */
  const revokeGrantsWhere = async (where: string, key: unknown, now: EpochSeconds): Promise<number> => {
    const { rows } = await q<{ id: string }>(`UPDATE grants SET revoked_at = $1 WHERE ${where} AND revoked_at IS NULL RETURNING id`, [now, key]);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await q('UPDATE refresh_tokens SET revoked_at = $1 WHERE grant_id = ANY($2) AND used_at IS NULL AND revoked_at IS NULL', [now, ids]);
    await q('UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = ANY($2) AND revoked_at IS NULL', [now, ids]);
    return rows.length;
  };

  const userByName = async (username: string) =>
    (await q<{ id: number; password_hash: string | null; is_active: boolean }>(
      'SELECT id, password_hash, is_active FROM users WHERE username = $1',
      [username],
    )).rows[0];
  const clientExists = async (clientId: string) =>
    (await q('SELECT 1 FROM clients WHERE client_id = $1', [clientId])).rowCount! > 0 || wouldCreateClients.has(clientId);
  const accessOwner = async (hash: Buffer) =>
    (await q<{ grant_id: string }>('SELECT grant_id FROM access_tokens WHERE token_hash = $1', [hash])).rows[0]?.grant_id;
  const refreshOwner = async (hash: Buffer) =>
    (await q<{ grant_id: string }>('SELECT grant_id FROM refresh_tokens WHERE token_hash = $1', [hash])).rows[0]?.grant_id;
  const grantUsed = async (grantId: string) =>
    (await q(ROTATED_SINCE_IMPORT, [grantId])).rowCount! > 0;

  return {
    importUser: (u: ImportUser, now: EpochSeconds) =>
      tx(async (): Promise<ImportUserResult> => {
        const row = await userByName(u.username);
        if (!row) {
          if (dryRun) wouldCreateUsers.add(u.username);
          else {
            await q(
              `INSERT INTO users (username, password_hash, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
               ON CONFLICT (username) DO NOTHING`,
              [u.username, u.passwordHash, u.isActive, u.createdAt],
            );
          }
          return { outcome: 'created', changes: [], staysDisabled: false };
        }
        const changes: ImportUserResult['changes'] = [];
        if (row.password_hash !== u.passwordHash && u.mayReplaceHash(row.password_hash)) {
          // Conditional on the hash read: a login upgrading it meanwhile wins.
          if (!dryRun) {
            await q('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash IS NOT DISTINCT FROM $4', [
              u.passwordHash,
              now,
              row.id,
              row.password_hash,
            ]);
          }
          changes.push('password_hash');
        }
        if (!u.isActive && row.is_active) {
          // As `oauthd user disable`: a disabled user's tokens stop working at once.
          if (!dryRun) {
            await q('UPDATE users SET is_active = false, updated_at = $1 WHERE id = $2', [now, row.id]);
            await revokeGrantsWhere('user_id = $2', row.id, now);
          }
          changes.push('disabled');
        }
        return { outcome: changes.length > 0 ? 'updated' : 'present', changes, staysDisabled: u.isActive && !row.is_active };
      }),

    hasClient: clientExists,

    importClient: (c: NewClient) =>
      tx(async (): Promise<'created' | 'present'> => {
        if (await clientExists(c.clientId)) return 'present';
        if (dryRun) {
          wouldCreateClients.add(c.clientId);
          return 'created';
        }
        const { rowCount } = await q(
          `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (client_id) DO NOTHING`,
          [c.clientId, c.name, c.secretHash, c.isPublic, joinList(c.grantTypes), joinList(c.scopes), c.canIntrospect === true, c.createdAt],
        );
        return rowCount === 1 ? 'created' : 'present';
      }),

    importGrant: (g: ImportGrant, now: EpochSeconds) =>
      tx(async (): Promise<ImportGrantResult> => {
        const user = await userByName(g.username);
        const existing = (
          await q<{ client_id: string; user_id: number; revoked_at: number | null }>(
            // Serializes with a revocation of the same grant (which locks it the same way), not with rotations.
            `SELECT client_id, user_id, revoked_at FROM grants WHERE id = $1${dryRun ? '' : ' FOR NO KEY UPDATE'}`,
            [g.id],
          )
        ).rows[0];
        if (!existing) {
          if (!user && !wouldCreateUsers.has(g.username)) return { outcome: 'skipped', reason: 'no_user' };
          if (!(await clientExists(g.clientId))) return { outcome: 'skipped', reason: 'no_client' };
          if ((g.access && (await accessOwner(g.access.hash))) || (g.refresh && (await refreshOwner(g.refresh.hash)))) {
            return { outcome: 'skipped', reason: 'conflict' };
          }
          if (dryRun) return { outcome: 'created' };
          const inserted = await q(
            'INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
            [g.id, g.clientId, user!.id, joinList(g.scope), g.createdAt],
          );
          if (inserted.rowCount !== 1) return { outcome: 'present' }; // another import won the race
          if (g.access) {
            await q('INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
              g.access.hash,
              g.id,
              joinList(g.access.scope),
              g.access.issuedAt,
              g.access.expiresAt,
            ]);
          }
          if (g.refresh) {
            await q(
              `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)`,
              [g.refresh.hash, g.id, g.access?.hash ?? null, joinList(g.refresh.scope), g.refresh.issuedAt, g.refresh.expiresAt],
            );
          }
          return { outcome: 'created' };
        }

        // The id exists: it must be the same family (a re-import), not another database's token with that id.
        if (!user || existing.user_id !== user.id || existing.client_id !== g.clientId) return { outcome: 'skipped', reason: 'conflict' };
        if (!g.refresh) {
          return g.access && (await accessOwner(g.access.hash)) === g.id ? { outcome: 'present' } : { outcome: 'skipped', reason: 'conflict' };
        }
        const rt = (
          await q<{ access_token_hash: Buffer | null }>('SELECT access_token_hash FROM refresh_tokens WHERE token_hash = $1 AND grant_id = $2', [
            g.refresh.hash,
            g.id,
          ])
        ).rows[0];
        if (!rt) return { outcome: 'skipped', reason: 'conflict' };
        // Touched by oauthd (refreshed here, or revoked here): oauthd's state wins.
        if (existing.revoked_at !== null || (await grantUsed(g.id))) return { outcome: 'present' };

        const desired = g.access?.hash ?? null;
        const live = (await q<{ token_hash: Buffer }>('SELECT token_hash FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL', [g.id])).rows.map(
          (r) => r.token_hash,
        );
        const stale = live.filter((h) => desired === null || !h.equals(desired));
        const owner = desired ? await accessOwner(desired) : undefined;
        if (owner !== undefined && owner !== g.id) return { outcome: 'skipped', reason: 'conflict' };
        const add = desired !== null && owner === undefined;
        const relink = desired !== null && !(rt.access_token_hash?.equals(desired) ?? false);
        if (stale.length === 0 && !add && !relink) return { outcome: 'present' };
        if (!dryRun) {
          // The refresh token first (lock order), only while it is still unused.
          if (relink) {
            await q('UPDATE refresh_tokens SET access_token_hash = $1 WHERE token_hash = $2 AND used_at IS NULL', [desired, g.refresh.hash]);
          }
          if (stale.length > 0) {
            await q('UPDATE access_tokens SET revoked_at = $1 WHERE token_hash = ANY($2) AND revoked_at IS NULL', [now, stale]);
          }
          if (add) {
            await q('INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
              g.access!.hash,
              g.id,
              joinList(g.access!.scope),
              g.access!.issuedAt,
              g.access!.expiresAt,
            ]);
          }
        }
        return { outcome: 'updated', accessRevoked: stale.length > 0, accessAdded: add };
      }),

    revokeUntouchedGrant: (grantId: string, now: EpochSeconds) =>
      tx(async (): Promise<'revoked' | 'unchanged'> => {
        if (dryRun) {
          const { rows } = await q<{ revoked_at: number | null }>('SELECT revoked_at FROM grants WHERE id = $1', [grantId]);
          return rows[0] && rows[0].revoked_at === null && !(await grantUsed(grantId)) ? 'revoked' : 'unchanged';
        }
        // One statement decides: a rotation committed before it makes the grant "used" and it stays.
        const revoked = await revokeGrantsWhere(
          `id = $2 AND NOT EXISTS (${ROTATED_SINCE_IMPORT.replace('$1', 'grants.id')})`,
          grantId,
          now,
        );
        return revoked > 0 ? 'revoked' : 'unchanged';
      }),

    async grantIdsWithPrefix(prefix) {
      const { rows } = await q<{ id: string }>('SELECT id FROM grants WHERE left(id, length($1)) = $1 ORDER BY id', [prefix]);
      return rows.map((r) => r.id);
    },

    async activeUsersWithForeignHashes(isOwnHash) {
      const { rows } = await q<{ username: string; password_hash: string | null }>(
        'SELECT username, password_hash FROM users WHERE is_active ORDER BY username',
      );
      return rows.filter((r) => r.password_hash === null || !isOwnHash(r.password_hash)).map((r) => r.username);
    },

    async counts() {
      const { rows } = await q<{ users: number; clients: number; grants: number; access_tokens: number; refresh_tokens: number }>(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM grants) AS grants,
           (SELECT count(*) FROM access_tokens) AS access_tokens, (SELECT count(*) FROM refresh_tokens) AS refresh_tokens`,
      );
      const r = rows[0]!;
      return { users: r.users, clients: r.clients, grants: r.grants, accessTokens: r.access_tokens, refreshTokens: r.refresh_tokens };
    },

    async close() {
      await client.end().catch(() => {});
    },
  };
}

async function checkSchema(client: pg.Client): Promise<void> {
  const latest = migrations[migrations.length - 1]!.version;
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  const version = rows[0]!.present
    ? ((await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v)
    : 0;
  if (version < latest) {
    throw new Error(`the oauthd database has schema version ${version}, not ${latest}: run \`oauthd migrate\` first (a dry run writes nothing)`);
  }
}
