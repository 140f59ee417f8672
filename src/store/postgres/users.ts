import type { NewUser, UserStore } from '../../core/ports.js';
import type { EpochSeconds, UserGrant } from '../../core/types.js';
import { toUser, toUserGrant, type UserGrantRow, type UserRow } from '../rows.js';
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

const revokeGrantsOfUser = (query: Query, userId: number, now: EpochSeconds) =>
  revokeGrantsWhere(query, 'user_id = $2', userId, now);

export function postgresUsers({ query, inTransaction }: PostgresConnection): UserStore {
  return {
    async createUser(u: NewUser) {
      const { rowCount } = await query(
        `INSERT INTO users (username, password_hash, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (username) DO NOTHING`,
        [u.username, u.passwordHash, u.isActive, u.createdAt],
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
      if (!revokeGrants) return (await query(update, [passwordHash, now, username])).rowCount === 1;
      return inTransaction(async (q) => {
        const { rows } = await q<{ id: number }>(update, [passwordHash, now, username]);
        if (!rows[0]) return false;
        await revokeGrantsOfUser(q, rows[0].id, now);
        return true;
      });
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
      if (isActive) return (await query(update, [true, now, username])).rowCount === 1;
      return inTransaction(async (q) => {
        const { rows } = await q<{ id: number }>(update, [false, now, username]);
        if (!rows[0]) return false;
        // Disabling a user ends every session it has: tokens stop working at once.
        await revokeGrantsOfUser(q, rows[0].id, now);
        return true;
      });
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

    async deleteUser(username, now) {
      // As deleteClient: the user row, then its grants, are locked first, so a rotation in flight finishes
      // before (its live tokens are then deleted here) and a later one finds its grant gone.
      return inTransaction(async (q) => {
        const { rows } = await q<UserRow>('SELECT * FROM users WHERE username = $1 FOR UPDATE', [username]);
        const row = rows[0];
        if (!row) return null;
        await q('SELECT 1 FROM grants WHERE user_id = $1 FOR UPDATE', [row.id]);
        const liveGrants = (await liveGrantsOf(q, row.id, now)).length;
        await q(
          `DELETE FROM access_tokens
           WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)`,
          [row.id],
        );
        await q(
          `DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
             AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)`,
          [row.id],
        );
        await q('DELETE FROM users WHERE id = $1', [row.id]);
        return { user: toUser(row), liveGrants };
      });
    },

    async listUserGrants(userId, now) {
      return liveGrantsOf(query, userId, now);
    },

    async revokeUserGrants(userId, { clientId, now }) {
      return inTransaction(async (q) => {
        const ids = (await liveGrantsOf(q, userId, now))
          .filter((g) => clientId === undefined || g.clientId === clientId)
          .map((g) => g.grantId);
        if (ids.length === 0) return [];
        return revokeGrantsWhere(q, 'id = ANY ($2::text[])', ids, now);
      });
    },
  };
}
