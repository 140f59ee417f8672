import { dayOf, USAGE_RETENTION_DAYS } from '../rows.js';
import type Database from 'better-sqlite3';
import type { SealedErasure, StoreMaintenance } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import { migrations } from '../migrations/index.js';
import type { SqliteConnection } from './connection.js';

/** The database itself: migrations, health, and the cleanup's hot writes (registered with the queue). */
export function sqliteMaintenance(conn: SqliteConnection): StoreMaintenance {
  const { db } = conn;
  let statements: ReturnType<typeof prepareCleanupStatements> | undefined;
  const sql = () => (statements ??= prepareCleanupStatements(db));
  conn.registerWrites({
    deleteExpired: (now, before, limit, auditBefore) => deleteExpired(sql(), now, before, limit, auditBefore),
    eraseSealed: (from, before, limit) => eraseSealed(sql(), from, before, limit),
  });
  const migrate = db.transaction(() => applyMigrations(db));

  return {
    async migrate() {
      await conn.commitDurably(() => migrate.immediate());
    },
    close: () => conn.close(),
    async ping() {
      if (conn.syncFailure) throw conn.syncFailure;
      sql().ping.get();
    },
    async counts() {
      return sql().counts.get() as { clients: number; users: number };
    },
    deleteExpired({ now, retentionSeconds, limit, auditRetentionSeconds }) {
      const auditBefore = auditRetentionSeconds === undefined ? null : now - auditRetentionSeconds;
      return conn.queueWrite('deleteExpired', now, now - retentionSeconds, limit, auditBefore);
    },
    eraseSealedSuccessors({ now, graceSeconds, usedFrom, limit }) {
      return conn.queueWrite('eraseSealed', usedFrom, now - graceSeconds, limit);
    },
  };
}

function applyMigrations(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const row = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
  for (const m of migrations) {
    if (m.version <= row.v) continue;
    db.exec(m.sqlite);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      m.version,
      m.name,
      Math.floor(Date.now() / 1000),
    );
  }
}

type CleanupStatements = ReturnType<typeof prepareCleanupStatements>;

/** See Store.deleteExpired; `before` is now − retention, `auditBefore` null to keep audit events. */
function deleteExpired(
  sql: CleanupStatements,
  now: EpochSeconds,
  before: EpochSeconds,
  limit: number,
  auditBefore: EpochSeconds | null,
): number {
  sql.deleteLiveAccessOfRevokedGrants.run(before, limit);
  sql.deleteLiveRefreshOfRevokedGrants.run(before, limit);
  return (
    sql.deleteRevokedGrants.run(before, limit).changes +
    sql.deleteExpiredAccess.run(now, limit).changes +
    sql.deleteSpentUserlessGrants.run(before, limit).changes +
    sql.deleteDeadRefresh.run(before, before, before, limit).changes +
    (auditBefore === null ? 0 : sql.deleteOldAudit.run(auditBefore, limit).changes) +
    sql.deleteOldLockouts.run(before, limit).changes +
    sql.deleteOldUsage.run(dayOf(now) - USAGE_RETENTION_DAYS, limit).changes +
    sql.deleteOldCodes.run(before, limit).changes +
    sql.deleteOldDeviceCodes.run(before, limit).changes +
    sql.deleteOldSessions.run(before, before, limit).changes
  );
}

/**
 * See Store.eraseSealedSuccessors; `before` is now − grace. The batch's end is the `used_at` of the
 * (limit+1)-th used token from `from` (an index-only walk); the update then reads only the rows before it.
 * When more than `limit` tokens were used in the second `from`, the batch is that whole second.
 */
function eraseSealed(sql: CleanupStatements, from: EpochSeconds, before: EpochSeconds, limit: number): SealedErasure {
  const boundary = sql.usedAtBoundary.get(from, before, limit) as { used_at: number } | undefined;
  const upTo = boundary === undefined ? before : Math.max(boundary.used_at, from + 1);
  const erased = sql.eraseSealed.run(from, Math.min(upTo, before)).changes;
  return { erased, next: upTo >= before ? null : upTo };
}

function prepareCleanupStatements(db: Database.Database) {
  return {
    ping: db.prepare('SELECT 1'),
    counts: db.prepare('SELECT (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM users) AS users'),
    // Each DELETE walks one partial index, at most `limit` rows: short transactions, no long write lock.
    // Tokens have no foreign key to grants (migration 4): a revoked grant takes along any token still live at
    // row level (revokeGrant leaves none; this is the backstop), the same `limit` grants in the same order;
    // its dead tokens go by their own criteria below.
    deleteLiveAccessOfRevokedGrants: db.prepare(`DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteLiveRefreshOfRevokedGrants: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteRevokedGrants: db.prepare(`DELETE FROM grants WHERE id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteExpiredAccess: db.prepare(`DELETE FROM access_tokens WHERE token_hash IN
      (SELECT token_hash FROM access_tokens WHERE expires_at < ? LIMIT ?)`),
    // A client_credentials grant has one access token and no refresh token: once that token is gone (expired
    // and deleted above) and the retention has passed, nothing refers to the grant. Through the partial
    // indexes of such grants (migration 7) and of live access tokens by grant (migration 4).
    deleteSpentUserlessGrants: db.prepare(`DELETE FROM grants WHERE id IN
      (SELECT g.id FROM grants g WHERE g.user_id IS NULL AND g.revoked_at IS NULL AND g.created_at < ?
        AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL) LIMIT ?)`),
    deleteDeadRefresh: db.prepare(`DELETE FROM refresh_tokens WHERE token_hash IN
      (SELECT token_hash FROM refresh_tokens WHERE used_at < ?
       UNION SELECT token_hash FROM refresh_tokens WHERE revoked_at < ?
       UNION SELECT token_hash FROM refresh_tokens WHERE expires_at < ? LIMIT ?)`),
    // Sealed successors past the grace window (eraseSealed): the used_at index, a bounded range of it.
    usedAtBoundary: db.prepare(`SELECT used_at FROM refresh_tokens WHERE used_at >= ? AND used_at < ?
      ORDER BY used_at LIMIT 1 OFFSET ?`),
    eraseSealed: db.prepare(`UPDATE refresh_tokens SET successor_response = NULL
      WHERE used_at >= ? AND used_at < ? AND successor_response IS NOT NULL`),
    deleteOldAudit: db.prepare(
      'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)',
    ),
    // Lockouts ended (or cleared) more than the retention ago: the audit trail keeps their story.
    deleteOldUsage: db.prepare(`DELETE FROM client_usage WHERE (client_id, grant_type, day) IN
      (SELECT client_id, grant_type, day FROM client_usage WHERE day < ? LIMIT ?)`),
    deleteOldLockouts: db.prepare(
      'DELETE FROM lockouts WHERE id IN (SELECT id FROM lockouts WHERE locked_until < ? LIMIT ?)',
    ),
    // Codes expired more than the retention ago (used or not: reuse of one that old is refused as unknown),
    // through their expires_at indexes; sessions expired or ended that long ago.
    deleteOldCodes: db.prepare(`DELETE FROM authorization_codes WHERE hash IN
      (SELECT hash FROM authorization_codes WHERE expires_at < ? LIMIT ?)`),
    deleteOldDeviceCodes: db.prepare(`DELETE FROM device_codes WHERE hash IN
      (SELECT hash FROM device_codes WHERE expires_at < ? LIMIT ?)`),
    deleteOldSessions: db.prepare(`DELETE FROM browser_sessions WHERE hash IN
      (SELECT hash FROM browser_sessions WHERE expires_at < ?
       UNION SELECT hash FROM browser_sessions WHERE ended_at < ? LIMIT ?)`),
  };
}
