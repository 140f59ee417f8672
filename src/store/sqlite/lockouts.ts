import type Database from 'better-sqlite3';
import type { LockoutStore, NewLockout } from '../../core/ports.js';
import { toLockout, type LockoutRow } from '../rows.js';
import type { SqliteConnection } from './connection.js';

/** Lockouts the login throttle started. Their writes change no token: the access-token cache stays. */
export function sqliteLockouts(conn: SqliteConnection): LockoutStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareLockoutStatements> | undefined;
  const sql = () => (statements ??= prepareLockoutStatements(db));
  const recordLockouts = db.transaction((lockouts: readonly NewLockout[]) => {
    for (const l of lockouts) sql().insertLockout.run(l.kind, l.username, l.clientId, l.ipKey, l.startedAt, l.until);
  });

  return {
    async recordLockouts(lockouts) {
      if (lockouts.length === 0) return;
      await conn.commitDurably(() => recordLockouts.immediate(lockouts), { changesNoToken: true });
    },
    async listActiveLockouts(now) {
      return (sql().activeLockouts.all(now) as LockoutRow[]).map(toLockout);
    },
    async clearLockouts(match, now) {
      const rows = await conn.commitDurably(
        () =>
          ('username' in match
            ? sql().clearLockoutsOfUser.all(now, now, match.username)
            : sql().clearLockoutsOfIp.all(now, now, match.ipKey)) as LockoutRow[],
        { changesNoToken: true },
      );
      return rows.map(toLockout);
    },
    async lockoutsClearedSince(since) {
      return (sql().lockoutsClearedSince.all(since) as LockoutRow[]).map(toLockout);
    },
  };
}

function prepareLockoutStatements(db: Database.Database) {
  return {
    insertLockout: db.prepare(`INSERT INTO lockouts (kind, username, client_id, ip_key, started_at, locked_until)
      VALUES (?, ?, ?, ?, ?, ?)`),
    activeLockouts: db.prepare(`SELECT * FROM lockouts WHERE cleared_at IS NULL AND locked_until > ?
      ORDER BY started_at, id`),
    clearLockoutsOfUser: db.prepare(`UPDATE lockouts SET cleared_at = ?
      WHERE cleared_at IS NULL AND locked_until > ? AND username = ? RETURNING *`),
    clearLockoutsOfIp: db.prepare(`UPDATE lockouts SET cleared_at = ?
      WHERE cleared_at IS NULL AND locked_until > ? AND ip_key = ? RETURNING *`),
    lockoutsClearedSince: db.prepare('SELECT * FROM lockouts WHERE cleared_at >= ? ORDER BY cleared_at, id'),
  };
}
