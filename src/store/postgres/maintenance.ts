import { dayOf, USAGE_RETENTION_DAYS } from '../rows.js';
import type { StoreMaintenance } from '../../core/ports.js';
import { migrations } from '../migrations/index.js';
import { QUERY_TIMEOUT_GRACE_MS, type PostgresConnection, type Query } from './connection.js';

type DeleteExpiredOptions = Parameters<StoreMaintenance['deleteExpired']>[0];

/** Migrations may build indexes on large tables, and wait for another instance's migration. */
const MIGRATION_TIMEOUT_MS = 300_000;
/** Key of the advisory lock every instance takes to migrate: "oauthd" in ASCII. */
const MIGRATION_LOCK_KEY = '122464373074020';

/** Applies the migrations not applied yet, in one transaction under the migration lock. */
function migrate({ inTransaction }: PostgresConnection): Promise<void> {
  return inTransaction(async (tx) => {
    await tx(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    // Several instances starting at once: the first to get the lock migrates, the others wait for its
    // commit, then (READ COMMITTED) find nothing to do. Taken before anything else, so even the first
    // CREATE TABLE is serialized; held until the transaction ends.
    await tx(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
    const { rows } = await tx<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    for (const m of migrations) {
      if (m.version <= rows[0]!.v) continue;
      await tx(m.postgres);
      await tx('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        Math.floor(Date.now() / 1000),
      ]);
    }
  }, MIGRATION_TIMEOUT_MS + QUERY_TIMEOUT_GRACE_MS);
}

/** See StoreMaintenance.deleteExpired. */
async function deleteExpired(
  query: Query,
  { now, retentionSeconds, limit, auditRetentionSeconds }: DeleteExpiredOptions,
): Promise<number> {
  // Short statements, each walking partial indexes for at most `limit` rows. A revoked grant goes with
  // whatever live token it still has (a rotation racing its revocation committed one): tokens have no
  // foreign key to grants since migration 4, and a live token is not reached by the criteria below.
  const before = now - retentionSeconds;
  const grants = await query(
    `WITH doomed AS (SELECT id FROM grants WHERE revoked_at < $1 LIMIT $2),
       live_access AS (DELETE FROM access_tokens
         WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM doomed)),
       live_refresh AS (DELETE FROM refresh_tokens
         WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM doomed))
     DELETE FROM grants WHERE id IN (SELECT id FROM doomed)`,
    [before, limit],
  );
  const access = await query(
    `DELETE FROM access_tokens
     WHERE token_hash IN (SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)`,
    [now, limit],
  );
  const refresh = await query(
    `DELETE FROM refresh_tokens WHERE token_hash IN (
       SELECT token_hash FROM refresh_tokens WHERE used_at < $1
       UNION SELECT token_hash FROM refresh_tokens WHERE revoked_at < $1
       UNION SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)`,
    [before, limit],
  );
  // client_credentials grants whose one access token is gone (see sqlite/maintenance.ts).
  const userless = await query(
    `DELETE FROM grants WHERE id IN
       (SELECT g.id FROM grants g WHERE g.user_id IS NULL AND g.revoked_at IS NULL AND g.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL) LIMIT $2)`,
    [before, limit],
  );
  const lockouts = await query(
    'DELETE FROM lockouts WHERE id IN (SELECT id FROM lockouts WHERE locked_until < $1 LIMIT $2)',
    [before, limit],
  );
  const usage = await query(
    `DELETE FROM client_usage WHERE (client_id, grant_type, day) IN
       (SELECT client_id, grant_type, day FROM client_usage WHERE day < $1 LIMIT $2)`,
    [dayOf(now) - USAGE_RETENTION_DAYS, limit],
  );
  const audit =
    auditRetentionSeconds === undefined
      ? { rowCount: 0 }
      : await query('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)', [
          now - auditRetentionSeconds,
          limit,
        ]);
  // Codes expired more than the retention ago (used or not: reuse of one that old is refused as unknown),
  // through their expires_at indexes; sessions expired or ended that long ago.
  const codes = await query(
    `DELETE FROM authorization_codes
     WHERE hash IN (SELECT hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)`,
    [before, limit],
  );
  const deviceCodes = await query(
    'DELETE FROM device_codes WHERE hash IN (SELECT hash FROM device_codes WHERE expires_at < $1 LIMIT $2)',
    [before, limit],
  );
  const sessions = await query(
    `DELETE FROM browser_sessions WHERE hash IN (
       SELECT hash FROM browser_sessions WHERE expires_at < $1
       UNION SELECT hash FROM browser_sessions WHERE ended_at < $1 LIMIT $2)`,
    [before, limit],
  );
  return [grants, access, refresh, userless, audit, lockouts, usage, codes, deviceCodes, sessions].reduce(
    (sum, { rowCount }) => sum + (rowCount ?? 0),
    0,
  );
}

export function postgresMaintenance(connection: PostgresConnection): StoreMaintenance {
  const { query, close } = connection;
  return {
    migrate: () => migrate(connection),
    close,

    async ping() {
      await query('SELECT 1', []);
    },

    async counts() {
      const { rows } = await query<{ clients: number; users: number }>(
        'SELECT (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM users) AS users',
      );
      return { clients: rows[0]!.clients, users: rows[0]!.users };
    },

    deleteExpired: (options) => deleteExpired(query, options),

    async eraseSealedSuccessors({ now, graceSeconds, usedFrom, limit }) {
      // As on SQLite: the batch ends at the used_at of the (limit+1)-th used token from usedFrom (the used_at
      // index), or covers the whole second usedFrom when more than limit tokens share it.
      const before = now - graceSeconds;
      const boundary = await query<{ used_at: string }>(
        'SELECT used_at FROM refresh_tokens WHERE used_at >= $1 AND used_at < $2 ORDER BY used_at LIMIT 1 OFFSET $3',
        [usedFrom, before, limit],
      );
      const upTo = boundary.rows[0] === undefined ? before : Math.max(Number(boundary.rows[0].used_at), usedFrom + 1);
      const erased = await query(
        `UPDATE refresh_tokens SET successor_response = NULL
         WHERE used_at >= $1 AND used_at < $2 AND successor_response IS NOT NULL`,
        [usedFrom, Math.min(upTo, before)],
      );
      return { erased: erased.rowCount ?? 0, next: upTo >= before ? null : upTo };
    },
  };
}
