import type Database from 'better-sqlite3';
import type { UserStore } from '../../core/ports.js';
import type { EpochSeconds, UserGrant } from '../../core/types.js';
import { toUser, toUserGrant, type UserGrantRow, type UserRow } from '../rows.js';
import { sessionEnder } from './browser-sessions.js';
import type { SqliteConnection } from './connection.js';
import { grantRevoker } from './tokens.js';

/** Resource owners and the grants they hold. Every write empties the access-token cache. */
export function sqliteUsers(conn: SqliteConnection): UserStore {
  const tx = userTransactions(conn.db);
  const { sql, userByName, liveGrantsOf } = tx;

  return {
    async createUser(u) {
      const created = await conn.commitDurably(() =>
        sql().insertUser.run(u.username, u.passwordHash, u.isActive ? 1 : 0, u.createdAt, u.createdAt),
      );
      return created.changes === 1 ? 'created' : 'exists';
    },
    async findUserByUsername(username) {
      const row = conn.readInTurn(() => userByName(username));
      return row ? toUser(row) : null;
    },
    async listUsers() {
      return (sql().allUsers.all() as UserRow[]).map(toUser);
    },
    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      return conn.commitDurably(() => tx.setUserPassword.immediate(username, passwordHash, revokeGrants, now));
    },
    async replacePasswordHash(userId, expectedHash, newHash, now) {
      await conn.commitDurably(() => sql().replacePassword.run(newHash, now, userId, expectedHash));
    },
    async setUserActive(username, isActive, now) {
      return conn.commitDurably(() => tx.setUserActive.immediate(username, isActive, now));
    },
    async renameUser(username, newUsername, now) {
      return conn.commitDurably(() => tx.renameUser.immediate(username, newUsername, now));
    },
    async deleteUser(username, now) {
      return conn.commitDurably(() => tx.deleteUser.immediate(username, now));
    },
    async listUserGrants(userId, now) {
      return conn.readInTurn(() => liveGrantsOf(userId, now));
    },
    async revokeUserGrants(userId, { clientId, now }) {
      return conn.commitDurably(() => tx.revokeUserGrants.immediate(userId, clientId, now));
    },
  };
}

/** The statements and the multi-statement transactions of the user store (run with `.immediate`). */
function userTransactions(db: Database.Database) {
  let statements: ReturnType<typeof prepareUserStatements> | undefined;
  const sql = () => (statements ??= prepareUserStatements(db));
  const revokeGrant = grantRevoker(db);
  const endSessions = sessionEnder(db);
  const userByName = (username: string) => sql().userByName.get(username) as UserRow | undefined;
  const revokeAllGrantsOf = (userId: number, now: EpochSeconds): void => {
    for (const { id } of sql().unrevokedGrantsOfUser.all(userId) as { id: string }[]) revokeGrant(id, now);
  };
  const liveGrantsOf = (userId: number, now: EpochSeconds): UserGrant[] =>
    (sql().liveGrantsOfUser.all(userId, now, now) as UserGrantRow[]).map(toUserGrant);

  const setUserPassword = db.transaction((username: string, hash: string, revokeGrants: boolean, now: EpochSeconds) => {
    const user = userByName(username);
    if (!user) return false;
    sql().setPassword.run(hash, now, user.id);
    // A password reset with revocation is the answer to a leaked password: whoever signed in with it is out too.
    if (revokeGrants) {
      revokeAllGrantsOf(user.id, now);
      endSessions(user.id, now);
    }
    return true;
  });
  const setUserActive = db.transaction((username: string, isActive: boolean, now: EpochSeconds): boolean => {
    const user = userByName(username);
    if (!user) return false;
    sql().setActive.run(isActive ? 1 : 0, now, user.id);
    // Disabling a user ends every session it has: tokens stop working at once, and so do sign-in pages.
    if (!isActive) {
      revokeAllGrantsOf(user.id, now);
      endSessions(user.id, now);
    }
    return true;
  });
  const renameUser = db.transaction((username: string, newUsername: string, now: EpochSeconds) => {
    const row = userByName(username);
    if (!row) return 'not_found' as const;
    if (username === newUsername) return 'renamed' as const;
    if (userByName(newUsername)) return 'exists' as const;
    sql().renameUser.run(newUsername, now, row.id);
    return 'renamed' as const;
  });
  // The user's live tokens go first (tokens have no foreign key to grants since migration 4), then the user,
  // and its grants with it (ON DELETE CASCADE). Dead tokens are left to the cleanup; no lookup finds a token
  // without its grant.
  const deleteUser = db.transaction((username: string, now: EpochSeconds) => {
    const row = userByName(username);
    if (!row) return null;
    const liveGrants = liveGrantsOf(row.id, now).length;
    sql().deleteUserLiveAccess.run(row.id);
    sql().deleteUserLiveRefresh.run(row.id);
    sql().deleteUser.run(row.id);
    return { user: toUser(row), liveGrants };
  });
  const revokeUserGrants = db.transaction((userId: number, clientId: string | undefined, now: EpochSeconds) => {
    const ids = liveGrantsOf(userId, now)
      .filter((g) => clientId === undefined || g.clientId === clientId)
      .map((g) => g.grantId);
    for (const id of ids) revokeGrant(id, now);
    return ids;
  });

  return { sql, userByName, liveGrantsOf, setUserPassword, setUserActive, renameUser, deleteUser, revokeUserGrants };
}

/** A grant is live while it is not revoked and holds a live refresh token or a live access token. */
const LIVE_GRANTS_OF_USER = `SELECT g.id AS grantId, g.client_id AS clientId, g.scope AS scope,
    g.created_at AS createdAt,
    max(g.created_at,
      coalesce((SELECT max(r.issued_at) FROM refresh_tokens r
        WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL), 0),
      coalesce((SELECT max(a.issued_at) FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL), 0)
    ) AS lastUsedAt
  FROM grants g WHERE g.user_id = ? AND g.revoked_at IS NULL AND (
    EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL
      AND (r.expires_at IS NULL OR r.expires_at > ?))
    OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > ?))
  ORDER BY g.created_at, g.id`;

function prepareUserStatements(db: Database.Database) {
  return {
    insertUser: db.prepare(`INSERT INTO users (username, password_hash, is_active, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`),
    userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
    allUsers: db.prepare('SELECT * FROM users ORDER BY id'),
    setPassword: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
    replacePassword: db.prepare(
      'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?',
    ),
    setActive: db.prepare('UPDATE users SET is_active = ?, updated_at = ? WHERE id = ?'),
    renameUser: db.prepare('UPDATE users SET username = ?, updated_at = ? WHERE id = ?'),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    deleteUserLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    deleteUserLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    liveGrantsOfUser: db.prepare(LIVE_GRANTS_OF_USER),
    unrevokedGrantsOfUser: db.prepare('SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL'),
  };
}
