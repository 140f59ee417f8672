import type Database from 'better-sqlite3';
import { ADMIN_SCOPES } from '../../core/admin-scopes.js';
import type { ListQuery, UserChanges, UserStore, UserUpdate } from '../../core/ports.js';
import type { EpochSeconds, User, UserGrant } from '../../core/types.js';
import { toUser, toUserGrant, type UserGrantRow, type UserRow } from '../rows.js';
import { pendingAuthorizationCanceller, sessionEnder } from './browser-sessions.js';
import { preparedByText } from './clients.js';
import type { SqliteConnection } from './connection.js';
import { grantRevoker } from './tokens.js';

/** Resource owners and the grants they hold. Every write empties the access-token cache. */
export function sqliteUsers(conn: SqliteConnection): UserStore {
  const tx = userTransactions(conn.db);
  const { sql, userByName, liveGrantsOf } = tx;

  return {
    async createUser(u) {
      const created = await conn.commitDurably(() =>
        sql().insertUser.run(
          u.username,
          u.passwordHash,
          u.isActive ? 1 : 0,
          u.isAdmin === true ? 1 : 0,
          u.createdAt,
          u.createdAt,
        ),
      );
      return created.changes === 1 ? 'created' : 'exists';
    },
    async findUserByUsername(username) {
      const row = conn.readInTurn(() => userByName(username));
      return row ? toUser(row) : null;
    },
    async listUsers(query) {
      if (query) return conn.readInTurn(() => tx.listPage(query));
      return (sql().allUsers.all() as UserRow[]).map(toUser);
    },
    async updateUser(username, changes, { now, ifVersion }) {
      return conn.commitDurably(() => tx.updateUser.immediate(username, changes, now, ifVersion ?? null));
    },
    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      return conn.commitDurably(() => tx.setUserPassword.immediate(username, passwordHash, revokeGrants, now));
    },
    async replacePasswordHash(userId, expectedHash, newHash, now) {
      await conn.commitDurably(() => sql().replacePassword.run(newHash, now, userId, expectedHash));
    },
    async setUserActive(username, isActive, now) {
      const update = await conn.commitDurably(() => tx.updateUser.immediate(username, { isActive }, now, null));
      return update.status === 'updated';
    },
    async renameUser(username, newUsername, now) {
      const changes = { username: newUsername };
      const update = await conn.commitDurably(() => tx.updateUser.immediate(username, changes, now, null));
      return update.status === 'updated' ? 'renamed' : (update.status as 'not_found' | 'exists');
    },
    async deleteUser(username, now, options) {
      return conn.commitDurably(() => tx.deleteUser.immediate(username, now, options?.ifVersion ?? null));
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
  const cancelPending = pendingAuthorizationCanceller(db);
  const userByName = (username: string) => sql().userByName.get(username) as UserRow | undefined;
  const revokeAllGrantsOf = (userId: number, now: EpochSeconds): void => {
    for (const { id } of sql().unrevokedGrantsOfUser.all(userId) as { id: string }[]) revokeGrant(id, now);
  };
  const revokeAdminGrantsOf = adminGrantRevoker(db, revokeGrant);
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
      cancelPending(user.id, null);
    }
    return true;
  });
  // Every change in one UPDATE, the version bumped once; `exists` is decided before it, so nothing is written.
  const updateUser = db.transaction(
    (username: string, changes: UserChanges, now: EpochSeconds, ifVersion: number | null): UserUpdate => {
      const user = userByName(username);
      if (!user) return { status: 'not_found' };
      if (ifVersion !== null && user.version !== ifVersion) return { status: 'version_mismatch' };
      const { username: newName, isActive, isAdmin } = changes;
      if (newName !== undefined && newName !== username && userByName(newName)) return { status: 'exists' };
      const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);
      const row = sql().updateUser.get(newName ?? null, flag(isActive), flag(isAdmin), now, user.id) as UserRow;
      const revokedGrants = isAdmin === false && user.is_admin ? revokeAdminGrantsOf(user.id, now) : undefined;
      // Disabling a user ends every session it has: tokens stop working at once, and so do sign-in pages.
      if (isActive === false) {
        revokeAllGrantsOf(user.id, now);
        endSessions(user.id, now);
        cancelPending(user.id, null);
      }
      return { status: 'updated', user: toUser(row), ...(revokedGrants ? { revokedGrants } : {}) };
    },
  );
  // The user's live tokens go first (tokens have no foreign key to grants since migration 4), then the user,
  // and its grants with it (ON DELETE CASCADE). Dead tokens are left to the cleanup; no lookup finds a token
  // without its grant.
  const deleteUser = db.transaction((username: string, now: EpochSeconds, ifVersion: number | null) => {
    const row = userByName(username);
    if (!row) return null;
    if (ifVersion !== null && row.version !== ifVersion) return 'version_mismatch' as const;
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
    // A code or an approved device code would otherwise become a grant after this revocation.
    cancelPending(userId, clientId ?? null);
    return ids;
  });

  const prepared = preparedByText(db);
  const listPage = (query: ListQuery): User[] => {
    const { sql: text, args } = userPageSql(query);
    return (prepared(text).all(...args) as UserRow[]).map(toUser);
  };

  return { sql, userByName, liveGrantsOf, listPage, setUserPassword, updateUser, deleteUser, revokeUserGrants };
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

/**
 * A space-separated scope holding one of the admin scopes as a whole word (each bound as ` scope `): instr,
 * not LIKE, which would ignore case (scopes are case-sensitive, RFC 6749 §3.3).
 */
const HOLDS_ADMIN_SCOPE = `(${ADMIN_SCOPES.map(() => "instr(' ' || scope || ' ', ?) > 0").join(' OR ')})`;

/**
 * Taking the admin flag: a refresh keeps the grant's scope (RFC 6749 §6), so a demoted admin would refresh admin
 * tokens on. The user's grants holding an admin scope are revoked, with their tokens; its unused codes and
 * approved device codes holding one would become such grants: cancelled too. The revoked grants' ids.
 */
function adminGrantRevoker(
  db: Database.Database,
  revokeGrant: (grantId: string, now: EpochSeconds) => void,
): (userId: number, now: EpochSeconds) => string[] {
  let statements: Record<'grants' | 'codes' | 'devices', Database.Statement> | undefined;
  return (userId, now) => {
    statements ??= {
      grants: db.prepare(`SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL AND ${HOLDS_ADMIN_SCOPE}`),
      codes: db.prepare(`DELETE FROM authorization_codes
        WHERE user_id = ? AND used_at IS NULL AND ${HOLDS_ADMIN_SCOPE}`),
      devices: db.prepare(`UPDATE device_codes SET status = 'denied'
        WHERE user_id = ? AND status = 'approved' AND ${HOLDS_ADMIN_SCOPE}`),
    };
    const words = ADMIN_SCOPES.map((s) => ` ${s} `);
    statements.codes.run(userId, ...words);
    statements.devices.run(userId, ...words);
    const ids = (statements.grants.all(userId, ...words) as { id: string }[]).map((g) => g.id);
    for (const id of ids) revokeGrant(id, now);
    return ids;
  };
}

function prepareUserStatements(db: Database.Database) {
  return {
    insertUser: db.prepare(`INSERT INTO users (username, password_hash, is_active, is_admin, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`),
    userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
    allUsers: db.prepare('SELECT * FROM users ORDER BY id'),
    setPassword: db.prepare('UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?'),
    replacePassword: db.prepare(
      'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?',
    ),
    // A field given as NULL keeps its value.
    updateUser: db.prepare(`UPDATE users SET username = coalesce(?, username), is_active = coalesce(?, is_active),
        is_admin = coalesce(?, is_admin), updated_at = ?, version = version + 1
      WHERE id = ? RETURNING *`),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    deleteUserLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    deleteUserLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    liveGrantsOfUser: db.prepare(LIVE_GRANTS_OF_USER),
    unrevokedGrantsOfUser: db.prepare('SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL'),
  };
}

/** One page of the users by username, as clientPageSql (sqlite/clients.ts) pages the clients. */
function userPageSql({ search, after, limit }: ListQuery): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (after !== undefined) {
    where.push('username > ?');
    args.push(after);
  }
  if (search !== undefined && search !== '') {
    where.push('instr(lower(username), lower(?)) > 0');
    args.push(search);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM users ${filter} ORDER BY username LIMIT ?`, args: [...args, limit] };
}
