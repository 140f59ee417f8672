import type Database from 'better-sqlite3';
import type { BrowserSessionStore, ConsentStore } from '../../core/authorization-ports.js';
import type { EpochSeconds } from '../../core/types.js';
import {
  consentScope,
  toBrowserSession,
  toConsent,
  toListedSession,
  type BrowserSessionRow,
  type ConsentRow,
} from '../authorization-rows.js';
import { joinList, splitList } from '../rows.js';
import type { SqliteConnection } from './connection.js';

/** The sign-in pages' sessions and the consents users gave. No write here changes a token. */
export function sqliteBrowserSessions(conn: SqliteConnection): BrowserSessionStore & ConsentStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareSessionStatements> | undefined;
  const sql = () => (statements ??= prepareSessionStatements(db));
  const endSessions = sessionEnder(db);
  const write = <T>(run: () => T) => conn.commitDurably(run, { changesNoToken: true });

  // A union needs the stored scopes: read and written under one write lock.
  const recordConsent = db.transaction((userId: number, clientId: string, scope: string[], now: EpochSeconds) => {
    const old = sql().consent.get(userId, clientId) as { scope: string } | undefined;
    const union = joinList(consentScope(old ? splitList(old.scope) : [], scope));
    sql().upsertConsent.run(userId, clientId, union, now, now, clientId, userId);
  });
  const revokeConsents = db.transaction((userId: number, clientId: string | undefined) =>
    (clientId === undefined
      ? (sql().deleteConsents.all(userId) as { client_id: string }[])
      : (sql().deleteConsent.all(userId, clientId) as { client_id: string }[])
    )
      .map((r) => r.client_id)
      .sort(),
  );

  return {
    async createBrowserSession(s) {
      // Not written for a user deleted since sign-in checked the password: the cookie then finds nothing.
      await write(() => sql().insertSession.run(s.hash, s.userId, s.createdAt, s.expiresAt, s.userId));
    },
    async findBrowserSession(hash, now) {
      const row = conn.readInTurn(() => sql().liveSession.get(hash, now)) as BrowserSessionRow | undefined;
      return row ? toBrowserSession(row) : null;
    },
    async endBrowserSession(hash, now) {
      await write(() => sql().endSession.run(now, hash));
    },
    async listUserBrowserSessions(userId, now) {
      const rows = sql().liveSessionsOf.all(userId, now) as { hash: Buffer; created_at: number; expires_at: number }[];
      return rows.map(toListedSession);
    },
    endUserBrowserSessions: (userId, now) => write(() => endSessions(userId, now)),
    async findConsent(userId, clientId) {
      const row = sql().consent.get(userId, clientId) as { scope: string } | undefined;
      return row ? splitList(row.scope) : null;
    },
    async recordConsent(userId, clientId, scope, now) {
      await write(() => recordConsent.immediate(userId, clientId, scope, now));
    },
    async listUserConsents(userId) {
      return (sql().consentsOf.all(userId) as ConsentRow[]).map(toConsent);
    },
    revokeUserConsents: (userId, { clientId }) => write(() => revokeConsents.immediate(userId, clientId)),
  };
}

/**
 * Ends every live browser session of a user, inside the caller's write transaction (sign-out everywhere, and
 * users.ts when a user is disabled); returns how many. Statement prepared at first use.
 */
export function sessionEnder(db: Database.Database): (userId: number, now: EpochSeconds) => number {
  let statement: Database.Statement | undefined;
  return (userId, now) => {
    statement ??= db.prepare(`UPDATE browser_sessions SET ended_at = ?
      WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?`);
    return statement.run(now, userId, now).changes;
  };
}

function prepareSessionStatements(db: Database.Database) {
  return {
    insertSession: db.prepare(`INSERT INTO browser_sessions (hash, user_id, created_at, expires_at)
      SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)`),
    liveSession: db.prepare(`SELECT s.user_id, u.username, s.created_at, s.expires_at
      FROM browser_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.hash = ? AND s.ended_at IS NULL AND s.expires_at > ? AND u.is_active = 1`),
    endSession: db.prepare('UPDATE browser_sessions SET ended_at = ? WHERE hash = ? AND ended_at IS NULL'),
    liveSessionsOf: db.prepare(`SELECT hash, created_at, expires_at FROM browser_sessions
      WHERE user_id = ? AND ended_at IS NULL AND expires_at > ? ORDER BY created_at, hash`),
    consent: db.prepare('SELECT scope FROM consents WHERE user_id = ? AND client_id = ?'),
    // Not written for a client or user deleted meanwhile (the next authorization asks again).
    upsertConsent: db.prepare(`INSERT INTO consents (user_id, client_id, scope, created_at, updated_at)
      SELECT ?, ?, ?, ?, ?
      WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?) AND EXISTS (SELECT 1 FROM users WHERE id = ?)
      ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`),
    consentsOf: db.prepare(`SELECT client_id, scope, created_at, updated_at FROM consents
      WHERE user_id = ? ORDER BY client_id`),
    deleteConsents: db.prepare('DELETE FROM consents WHERE user_id = ? RETURNING client_id'),
    deleteConsent: db.prepare('DELETE FROM consents WHERE user_id = ? AND client_id = ? RETURNING client_id'),
  };
}
