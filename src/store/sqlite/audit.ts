import type Database from 'better-sqlite3';
import type { AuditActivityRow, AuditEvent, AuditStore } from '../../core/ports.js';
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
      const filter = (clause: string, ...values: (string | number | undefined)[]) => {
        if (values[0] === undefined) return;
        where.push(clause);
        args.push(...(values as (string | number)[]));
      };
      filter('event = ?', q.event);
      filter('client_id = ?', q.clientId);
      filter('username = ?', q.username);
      filter('user_id = ?', q.userId);
      filter('at >= ?', q.since);
      filter('at < ?', q.until);
      // Keyset paging in the listing's order: the (at) index holds the rowid, so this is one range of it.
      filter('(at, id) < (?, ?)', q.before?.at, q.before?.id);
      const sql = `SELECT id, at, event, client_id AS clientId, user_id AS userId, username, grant_id AS grantId, ip,
          detail
        FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      return db.prepare(sql).all(...args, q.limit) as AuditEvent[];
    },
    async auditActivity({ since, bucketSeconds, events }) {
      if (events.length === 0) return [];
      // Integer division: each bucket is named by its start, a multiple of bucketSeconds (epoch-aligned). The
      // casts: better-sqlite3 binds a JS number as a REAL, and a REAL divisor would divide exactly.
      const sql = `SELECT (at / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS bucket, event, count(*) AS count
        FROM audit_events
        WHERE at >= ? AND event IN (${events.map(() => '?').join(', ')})
        GROUP BY 1, 2 ORDER BY 1, 2`;
      const bucket = Math.max(1, Math.trunc(bucketSeconds));
      return db.prepare(sql).all(bucket, bucket, since, ...events) as AuditActivityRow[];
    },
  };
}
