import { ADMIN_SCOPES } from '../../core/admin-scopes.js';
import type { ListQuery, NewUser, UserChanges, UserStore, UserUpdate } from '../../core/ports.js';
import type { EpochSeconds, User, UserGrant } from '../../core/types.js';
import { toUser, toUserGrant, type UserGrantRow, type UserRow } from '../rows.js';
import { cancelPendingAuthorizations, endSessionsOf } from './browser-sessions.js';
import type { PostgresConnection, Query } from './connection.js';
import { revokeGrantsWhere } from './tokens.js';

/** A grant is live while it is not revoked and holds a live refresh token or a live access token (as on SQLite). */
const LIVE_GRANTS_OF_USER = `SELECT g.id AS "grantId", g.client_id AS "clientId", g.scope AS scope,
    g.created_at AS "createdAt",
    greatest(g.created_at,
      (SELECT max(r.issued_at) FROM refresh_tokens r
        WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL),
      (SELECT max(a.issued_at) FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL)) AS "lastUsedAt"
  FROM grants g WHERE g.user_id = $1 AND g.revoked_at IS NULL AND (
    EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL
      AND (r.expires_at IS NULL OR r.expires_at > $2))
    OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > $2))
  ORDER BY g.created_at, g.id`;

async function liveGrantsOf(query: Query, userId: number, now: EpochSeconds): Promise<UserGrant[]> {
  const { rows } = await query<UserGrantRow>(LIVE_GRANTS_OF_USER, [userId, now]);
  return rows.map(toUserGrant);
}

/**
 * Runs `update` (an UPDATE of one user … RETURNING id); with `revokeGrants`, in one transaction that also
 * revokes every grant of that user, cancels its pending codes and ends its browser sessions. Whether a user
 * matched.
 */
async function updateUserRow(
  { query, inTransaction }: PostgresConnection,
  update: string,
  values: unknown[],
  { revokeGrants, now }: { revokeGrants: boolean; now: EpochSeconds },
): Promise<boolean> {
  if (!revokeGrants) return (await query(update, values)).rowCount === 1;
  return inTransaction(async (tx) => {
    const { rows } = await tx<{ id: number }>(update, values);
    if (!rows[0]) return false;
    await endEverythingOf(tx, rows[0].id, now);
    return true;
  });
}

/** Revokes every grant of a user, cancels its pending codes and ends its browser sessions (in `tx`). */
async function endEverythingOf(tx: Query, userId: number, now: EpochSeconds): Promise<void> {
  // An unused code or an approved device code is a grant in waiting (RFC 6749 §4.1.2); used codes stay, for
  // reuse detection. First, so a redemption in flight either loses its code or commits its grant before the
  // revocation below sees the user's grants.
  await cancelPendingAuthorizations(tx, userId, null);
  await revokeGrantsWhere(tx, 'user_id = $2', userId, now);
  await endSessionsOf(tx, userId, now);
}

/** A space-separated scope holding one of the admin scopes (the text[] parameter `$n`) as a whole word. */
const holdsAdminScope = (n: number) => `string_to_array(scope, ' ') && $${n}::text[]`;

/**
 * Taking the admin flag: a refresh keeps the grant's scope (RFC 6749 §6), so the user's grants holding an
 * admin scope are revoked. Its unused codes and approved device codes holding one are grants in waiting:
 * cancelled first, in the order and for the reason endEverythingOf gives. The revoked grants' ids.
 */
async function revokeAdminGrantsOf(tx: Query, userId: number, now: EpochSeconds): Promise<string[]> {
  const scopes = [...ADMIN_SCOPES];
  await tx(`DELETE FROM authorization_codes WHERE user_id = $1 AND used_at IS NULL AND ${holdsAdminScope(2)}`, [
    userId,
    scopes,
  ]);
  await tx(
    `UPDATE device_codes SET status = 'denied' WHERE user_id = $1 AND status = 'approved' AND ${holdsAdminScope(2)}`,
    [userId, scopes],
  );
  return revokeGrantsWhere(tx, `user_id = $2 AND ${holdsAdminScope(3)}`, userId, now, scopes);
}

/** A new username another user took between the check and the UPDATE: the transaction is rolled back. */
const NAME_TAKEN = new Error('username taken');

/**
 * updateUser: the user row locked first, then every change in one UPDATE, the version bumped once; disabling
 * ends everything as setUserPassword with `revokeGrants` does, in the same transaction. NO KEY UPDATE, as the
 * UPDATE alone would take: a code redemption in flight (its code locked, inserting a grant that takes KEY SHARE
 * on the user) is not blocked by it, so the cancellation below waits for it rather than deadlocking with it.
 */
async function updateUserInTransaction(
  tx: Query,
  username: string,
  changes: UserChanges,
  { now, ifVersion }: { now: EpochSeconds; ifVersion?: number },
): Promise<UserUpdate> {
  const { rows } = await tx<UserRow>('SELECT * FROM users WHERE username = $1 FOR NO KEY UPDATE', [username]);
  const user = rows[0];
  if (!user) return { status: 'not_found' };
  if (ifVersion !== undefined && user.version !== ifVersion) return { status: 'version_mismatch' };
  const { username: newName, isActive, isAdmin } = changes;
  if (newName !== undefined && newName !== username) {
    if ((await tx('SELECT 1 FROM users WHERE username = $1', [newName])).rowCount === 1) return { status: 'exists' };
  }
  let updated: UserRow;
  try {
    const result = await tx<UserRow>(
      `UPDATE users SET username = coalesce($1, username), is_active = coalesce($2, is_active),
         is_admin = coalesce($3, is_admin), updated_at = $4, version = version + 1
       WHERE id = $5 RETURNING *`,
      [newName ?? null, isActive ?? null, isAdmin ?? null, now, user.id],
    );
    updated = result.rows[0]!;
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') throw NAME_TAKEN; // unique_violation: taken meanwhile
    throw error;
  }
  const revokedGrants =
    isAdmin === false && user.is_admin === true ? await revokeAdminGrantsOf(tx, user.id, now) : null;
  // Disabling a user ends every session it has: tokens stop working at once, and so do sign-in pages.
  if (isActive === false) await endEverythingOf(tx, user.id, now);
  return { status: 'updated', user: toUser(updated), ...(revokedGrants ? { revokedGrants } : {}) };
}

/**
 * As deleteClient: the user row, then its grants, are locked first, so a rotation in flight finishes before
 * (its live tokens are then deleted here) and a later one finds its grant gone. Runs in a transaction.
 */
async function deleteUserAndLiveTokens(
  tx: Query,
  username: string,
  now: EpochSeconds,
  ifVersion: number | null,
): Promise<{ user: User; liveGrants: number } | null | 'version_mismatch'> {
  const { rows } = await tx<UserRow>('SELECT * FROM users WHERE username = $1 FOR UPDATE', [username]);
  const row = rows[0];
  if (!row) return null;
  if (ifVersion !== null && row.version !== ifVersion) return 'version_mismatch';
  await tx('SELECT 1 FROM grants WHERE user_id = $1 FOR UPDATE', [row.id]);
  const liveGrants = (await liveGrantsOf(tx, row.id, now)).length;
  await tx(
    'DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)',
    [row.id],
  );
  await tx(
    `DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
       AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)`,
    [row.id],
  );
  await tx('DELETE FROM users WHERE id = $1', [row.id]);
  return { user: toUser(row), liveGrants };
}

/** updateUser: its transaction, and `exists` when the new name was taken meanwhile (rolled back). */
async function updateUserOnce(
  inTransaction: PostgresConnection['inTransaction'],
  username: string,
  changes: UserChanges,
  options: { now: EpochSeconds; ifVersion?: number },
): Promise<UserUpdate> {
  try {
    return await inTransaction((tx) => updateUserInTransaction(tx, username, changes, options));
  } catch (error) {
    if (error === NAME_TAKEN) return { status: 'exists' };
    throw error;
  }
}

export function postgresUsers(connection: PostgresConnection): UserStore {
  const { query, inTransaction } = connection;
  const updateUser: UserStore['updateUser'] = (username, changes, options) =>
    updateUserOnce(inTransaction, username, changes, options);
  return {
    async createUser(user: NewUser) {
      const { rowCount } = await query(
        `INSERT INTO users (username, password_hash, is_active, is_admin, created_at, updated_at)
         VALUES ($1, $2, $3, $5, $4, $4) ON CONFLICT (username) DO NOTHING`,
        [user.username, user.passwordHash, user.isActive, user.createdAt, user.isAdmin === true],
      );
      return rowCount === 1 ? 'created' : 'exists';
    },

    async findUserByUsername(username) {
      const { rows } = await query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      return rows[0] ? toUser(rows[0]) : null;
    },

    async listUsers(listQuery) {
      const { rows } = listQuery
        ? await query<UserRow>(...userPageSql(listQuery))
        : await query<UserRow>('SELECT * FROM users ORDER BY id');
      return rows.map(toUser);
    },

    updateUser,

    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      const update = `UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1
        WHERE username = $3 RETURNING id`;
      // A reset with revocation answers a leaked password: whoever signed in with it is out too.
      return updateUserRow(connection, update, [passwordHash, now, username], { revokeGrants, now });
    },

    async replacePasswordHash(userId, expectedHash, newHash, now) {
      // Conditional: a concurrent set-password (the hash is no longer expectedHash) wins.
      await query('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4', [
        newHash,
        now,
        userId,
        expectedHash,
      ]);
    },

    async setUserActive(username, isActive, now) {
      return (await updateUser(username, { isActive }, { now })).status === 'updated';
    },

    async renameUser(username, newUsername, now) {
      const update = await updateUser(username, { username: newUsername }, { now });
      return update.status === 'updated' ? 'renamed' : (update.status as 'not_found' | 'exists');
    },

    deleteUser: (username, now, options) =>
      inTransaction((tx) => deleteUserAndLiveTokens(tx, username, now, options?.ifVersion ?? null)),

    async listUserGrants(userId, now) {
      return liveGrantsOf(query, userId, now);
    },

    async revokeUserGrants(userId, { clientId, now }) {
      return inTransaction(async (tx) => {
        // A code or an approved device code would otherwise become a grant after this revocation; first, as above.
        await cancelPendingAuthorizations(tx, userId, clientId ?? null);
        const ids = (await liveGrantsOf(tx, userId, now))
          .filter((g) => clientId === undefined || g.clientId === clientId)
          .map((g) => g.grantId);
        if (ids.length === 0) return [];
        return revokeGrantsWhere(tx, 'id = ANY ($2::text[])', ids, now);
      });
    },
  };
}

/** One page of the users by username, as clientPageSql (postgres/clients.ts) pages the clients. */
function userPageSql({ search, after, limit }: ListQuery): [string, unknown[]] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (after !== undefined) {
    args.push(after);
    where.push(`username > $${args.length}`);
  }
  if (search !== undefined && search !== '') {
    args.push(search);
    where.push(`strpos(lower(username), lower($${args.length}::text COLLATE "C")) > 0`);
  }
  args.push(limit);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return [`SELECT * FROM users ${filter} ORDER BY username LIMIT $${args.length}`, args];
}
