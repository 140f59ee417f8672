import type { AuditEvent, AuditStore } from '../../core/ports.js';
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
      const add = (clause: string, value: string | number) => {
        args.push(value);
        where.push(clause.replace('?', `$${args.length}`));
      };
      if (filter.event !== undefined) add('event = ?', filter.event);
      if (filter.clientId !== undefined) add('client_id = ?', filter.clientId);
      if (filter.username !== undefined) add('username = ?', filter.username);
      if (filter.since !== undefined) add('at >= ?', filter.since);
      if (filter.until !== undefined) add('at < ?', filter.until);
      args.push(filter.limit);
      const { rows } = await query<AuditEvent>(
        `SELECT at, event, client_id AS "clientId", user_id AS "userId", username, grant_id AS "grantId", ip, detail
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC LIMIT $${args.length}`,
        args,
      );
      return rows;
    },
  };
}
