import type Database from 'better-sqlite3';
import type { AuditEvent, AuditStore } from '../../core/ports.js';
import type { SqliteConnection } from './connection.js';

/** The audit trail. Its rows are a hot write (group commit): the audit sink flushes them on the hot path. */
export function sqliteAudit(conn: SqliteConnection): AuditStore {
  const { db } = conn;
  let insertAudit: Database.Statement | undefined;
  conn.registerWrites({
    recordAudit(events) {
      insertAudit ??= db.prepare(`INSERT INTO audit_events (at, event, client_id, user_id, username, grant_id,
          ip, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const e of events) {
        insertAudit.run(e.at, e.event, e.clientId, e.userId, e.username, e.grantId, e.ip, e.detail);
      }
    },
  });

  return {
    async recordAuditEvents(events) {
      await conn.queueWrite('recordAudit', events);
    },
    async queryAuditEvents(q) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const filter = (clause: string, value: string | number | undefined) => {
        if (value === undefined) return;
        where.push(clause);
        args.push(value);
      };
      filter('event = ?', q.event);
      filter('client_id = ?', q.clientId);
      filter('username = ?', q.username);
      filter('at >= ?', q.since);
      filter('at < ?', q.until);
      const sql = `SELECT at, event, client_id AS clientId, user_id AS userId, username, grant_id AS grantId, ip, detail
        FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      return db.prepare(sql).all(...args, q.limit) as AuditEvent[];
    },
  };
}
