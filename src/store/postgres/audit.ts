import type { AuditActivityRow, AuditEvent, AuditStore } from '../../core/ports.js';
import type { PostgresConnection } from './connection.js';

export function postgresAudit({ query }: PostgresConnection): AuditStore {
  return {
    async recordAuditEvents(events) {
      if (events.length === 0) return;
      // One statement for the whole batch.
      await query(
        `INSERT INTO audit_events (at, event, client_id, user_id, username, grant_id, ip, detail)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
           $7::text[], $8::text[])`,
        [
          events.map((e) => e.at),
          events.map((e) => e.event),
          events.map((e) => e.clientId),
          events.map((e) => e.userId),
          events.map((e) => e.username),
          events.map((e) => e.grantId),
          events.map((e) => e.ip),
          events.map((e) => e.detail),
        ],
      );
    },

    async queryAuditEvents(filter) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const add = (clause: string, ...values: (string | number)[]) => {
        let text = clause;
        for (const value of values) {
          args.push(value);
          text = text.replace('?', `$${args.length}`);
        }
        where.push(text);
      };
      if (filter.event !== undefined) add('event = ?', filter.event);
      if (filter.clientId !== undefined) add('client_id = ?', filter.clientId);
      if (filter.username !== undefined) add('username = ?', filter.username);
      if (filter.userId !== undefined) add('user_id = ?', filter.userId);
      if (filter.since !== undefined) add('at >= ?', filter.since);
      if (filter.until !== undefined) add('at < ?', filter.until);
      // Keyset paging in the listing's order: one range of the (at, id) index (migration 9).
      if (filter.before !== undefined) add('(at, id) < (?, ?)', filter.before.at, filter.before.id);
      args.push(filter.limit);
      const { rows } = await query<AuditEvent>(
        `SELECT id, at, event, client_id AS "clientId", user_id AS "userId", username, grant_id AS "grantId", ip, detail
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC LIMIT $${args.length}`,
        args,
      );
      return rows;
    },

    async auditActivity({ since, bucketSeconds, events }) {
      if (events.length === 0) return [];
      // bigint division: each bucket is named by its start, a multiple of bucketSeconds (epoch-aligned); count(*)
      // is a bigint, a Number by the pool's type parser (connection.ts).
      const { rows } = await query<AuditActivityRow>(
        `SELECT (at / $1) * $1 AS bucket, event, count(*) AS count FROM audit_events
         WHERE at >= $2 AND event = ANY ($3::text[])
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [Math.max(1, Math.trunc(bucketSeconds)), since, events],
      );
      return rows.map((r) => ({ bucket: Number(r.bucket), event: r.event, count: Number(r.count) }));
    },
  };
}
