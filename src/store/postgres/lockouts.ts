import type { LockoutMatch, LockoutStore } from '../../core/ports.js';
import { toLockout, type LockoutRow } from '../rows.js';
import type { PostgresConnection } from './connection.js';

export function postgresLockouts({ query }: PostgresConnection): LockoutStore {
  return {
    async recordLockouts(lockouts) {
      if (lockouts.length === 0) return;
      await query(
        `INSERT INTO lockouts (kind, username, client_id, ip_key, started_at, locked_until)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])`,
        [
          lockouts.map((l) => l.kind),
          lockouts.map((l) => l.username),
          lockouts.map((l) => l.clientId),
          lockouts.map((l) => l.ipKey),
          lockouts.map((l) => l.startedAt),
          lockouts.map((l) => l.until),
        ],
      );
    },

    async listActiveLockouts(now) {
      const { rows } = await query<LockoutRow>(
        'SELECT * FROM lockouts WHERE cleared_at IS NULL AND locked_until > $1 ORDER BY started_at, id',
        [now],
      );
      return rows.map(toLockout);
    },

    async clearLockouts(match: LockoutMatch, now) {
      const [column, key] = 'username' in match ? ['username', match.username] : ['ip_key', match.ipKey];
      const { rows } = await query<LockoutRow>(
        `UPDATE lockouts SET cleared_at = $1 WHERE cleared_at IS NULL AND locked_until > $1 AND ${column} = $2
         RETURNING *`,
        [now, key],
      );
      return rows.map(toLockout);
    },

    async lockoutsClearedSince(since) {
      const { rows } = await query<LockoutRow>(
        'SELECT * FROM lockouts WHERE cleared_at >= $1 ORDER BY cleared_at, id',
        [since],
      );
      return rows.map(toLockout);
    },
  };
}
