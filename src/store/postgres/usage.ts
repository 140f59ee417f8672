import type { ClientUsage, ClientUsageStore } from '../../core/ports.js';
import type { PostgresConnection } from './connection.js';

const COLUMNS = `client_id AS "clientId", grant_type AS "grantType", day, requests::float8 AS requests,
  last_used_at AS "lastUsedAt"`;

/** Token requests per client, grant type and UTC day, added in batches by the server (see sqlite/usage.ts). */
export function postgresUsage({ query }: PostgresConnection): ClientUsageStore {
  return {
    async recordClientUsage(usage) {
      if (usage.length === 0) return;
      // One statement for the batch. Rows of one batch never share a key (the server sums them first).
      await query(
        `INSERT INTO client_usage (client_id, grant_type, day, requests, last_used_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::bigint[])
         ON CONFLICT (client_id, grant_type, day) DO UPDATE
         SET requests = client_usage.requests + excluded.requests,
           last_used_at = greatest(client_usage.last_used_at, excluded.last_used_at)`,
        [
          usage.map((u) => u.clientId),
          usage.map((u) => u.grantType),
          usage.map((u) => u.day),
          usage.map((u) => u.requests),
          usage.map((u) => u.lastUsedAt),
        ],
      );
    },
    async listClientUsage({ clientId, sinceDay }) {
      const { rows } =
        clientId === undefined
          ? await query<ClientUsage>(
              `SELECT ${COLUMNS} FROM client_usage WHERE day >= $1 ORDER BY client_id, grant_type, day`,
              [sinceDay],
            )
          : await query<ClientUsage>(
              `SELECT ${COLUMNS} FROM client_usage WHERE client_id = $1 AND day >= $2 ORDER BY grant_type, day`,
              [clientId, sinceDay],
            );
      return rows;
    },
  };
}
