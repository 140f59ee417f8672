import type { NewUser, UserStore } from '../../core/ports.js';
import type { EpochSeconds, User, UserGrant } from '../../core/types.js';
import { toUser, toUserGrant, type UserGrantRow, type UserRow } from '../rows.js';
import { endSessionsOf } from './browser-sessions.js';
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
 * revokes every grant of that user and ends its browser sessions. Whether a user matched.
 */
async function updateUser(
  { query, inTransaction }: PostgresConnection,
  update: string,
  values: unknown[],
  { revokeGrants, now }: { revokeGrants: boolean; now: EpochSeconds },
): Promise<boolean> {
  if (!revokeGrants) return (await query(update, values)).rowCount === 1;
  return inTransaction(async (tx) => {
    const { rows } = await tx<{ id: number }>(update, values);
    if (!rows[0]) return false;
    await revokeGrantsWhere(tx, 'user_id = $2', rows[0].id, now);
    await endSessionsOf(tx, rows[0].id, now);
    return true;
  });
}

/**
 * As deleteClient: the user row, then its grants, are locked first, so a rotation in flight finishes before
 * (its live tokens are then deleted here) and a later one finds its grant gone. Runs in a transaction.
 */
async function deleteUserAndLiveTokens(
  tx: Query,
  username: string,
  now: EpochSeconds,
): Promise<{ user: User; liveGrants: number } | null> {
  const { rows } = await tx<UserRow>('SELECT * FROM users WHERE username = $1 FOR UPDATE', [username]);
  const row = rows[0];
  if (!row) return null;
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

export function postgresUsers(connection: PostgresConnection): UserStore {
  const { query, inTransaction } = connection;
  return {
    async createUser(user: NewUser) {
      const { rowCount } = await query(
        `INSERT INTO users (username, password_hash, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (username) DO NOTHING`,
        [user.username, user.passwordHash, user.isActive, user.createdAt],
      );
      return rowCount === 1 ? 'created' : 'exists';
    },

    async findUserByUsername(username) {
      const { rows } = await query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      return rows[0] ? toUser(rows[0]) : null;
    },

    async listUsers() {
      const { rows } = await query<UserRow>('SELECT * FROM users ORDER BY id');
      return rows.map(toUser);
    },

    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      const update = 'UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING id';
      // A reset with revocation answers a leaked password: whoever signed in with it is out too.
      return updateUser(connection, update, [passwordHash, now, username], { revokeGrants, now });
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
      const update = 'UPDATE users SET is_active = $1, updated_at = $2 WHERE username = $3 RETURNING id';
      // Disabling a user ends every session it has: tokens stop working at once, and so do sign-in pages.
      return updateUser(connection, update, [isActive, now, username], { revokeGrants: !isActive, now });
    },

    async renameUser(username, newUsername, now) {
      try {
        const { rowCount } = await query('UPDATE users SET username = $1, updated_at = $2 WHERE username = $3', [
          newUsername,
          now,
          username,
        ]);
        return rowCount === 1 ? 'renamed' : 'not_found';
      } catch (error) {
        if ((error as { code?: unknown }).code === '23505') return 'exists'; // unique_violation: the name is taken
        throw error;
      }
    },

    deleteUser: (username, now) => inTransaction((tx) => deleteUserAndLiveTokens(tx, username, now)),

    async listUserGrants(userId, now) {
      return liveGrantsOf(query, userId, now);
    },

    async revokeUserGrants(userId, { clientId, now }) {
      return inTransaction(async (tx) => {
        const ids = (await liveGrantsOf(tx, userId, now))
          .filter((g) => clientId === undefined || g.clientId === clientId)
          .map((g) => g.grantId);
        if (ids.length === 0) return [];
        return revokeGrantsWhere(tx, 'id = ANY ($2::text[])', ids, now);
      });
    },
  };
}
