import pg from 'pg';
import {
  StoreUnavailableError,
  type AuditEvent,
  type IssueTokens,
  type LockoutMatch,
  type NewClient,
  type NewUser,
  type RotateRefreshToken,
  type RotateResult,
  type Store,
} from '../../core/ports.js';
import type { AccessTokenRecord, EpochSeconds, RefreshTokenRecord, UserGrant } from '../../core/types.js';
import { migrations } from '../migrations/index.js';
import { joinList, splitList, toClient, toLockout, toUser, type ClientRow, type LockoutRow, type UserRow } from '../rows.js';

/** Connections per store (per process) unless the URL says `?max=N`. */
export const DEFAULT_POOL_MAX = 10;
/** Server-side limit of one statement, lock waits included, unless the URL says `?statement_timeout=MS`. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
/** How long to wait for a connection (a new one, or a free one of the pool). */
const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * Client-side limit of one query, past the server's statement_timeout: it ends a query whose answer never
 * comes (a dead network, a frozen server), which the server-side timeout cannot.
 */
const QUERY_TIMEOUT_GRACE_MS = 5_000;
/** Migrations may build indexes on large tables, and wait for another instance's migration. */
const MIGRATION_TIMEOUT_MS = 300_000;
/** Key of the advisory lock every instance takes to migrate: "oauthd" in ASCII. */
const MIGRATION_LOCK_KEY = '122464373074020';


/** A grant is live while it is not revoked and holds a live refresh token or a live access token (as on SQLite). */
const LIVE_GRANTS_OF_USER = `SELECT g.id AS "grantId", g.client_id AS "clientId", g.scope AS scope, g.created_at AS "createdAt",
    greatest(g.created_at,
      (SELECT max(r.issued_at) FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL),
      (SELECT max(a.issued_at) FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL)) AS "lastUsedAt"
  FROM grants g WHERE g.user_id = $1 AND g.revoked_at IS NULL AND (
    EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL
      AND (r.expires_at IS NULL OR r.expires_at > $2))
    OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > $2))
  ORDER BY g.created_at, g.id`;

/** int8 (bigint: epoch seconds, ids, counts) as a JS number; every value we store is far below 2^53. */
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

/** A query on the connection of one transaction. */
type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * Every session runs READ COMMITTED whatever the server's or the database's default: the single-use
 * argument of rotateRefreshToken relies on it (under REPEATABLE READ or SERIALIZABLE the losers of a race
 * would fail with a serialization error instead of seeing the token used).
 */
const SESSION_OPTIONS = '-c default_transaction_isolation=read\\ committed';

export interface PostgresUrlOptions {
  /** The URL handed to node-postgres, without the parameters below. */
  connectionString: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** The server options of the URL's `options` parameter, if any, then ours (which win). */
  sessionOptions: string;
}

/**
 * Reads oauthd's own query parameters off a `postgres://` URL: `max` (pool size, 1-1000, default 10) and
 * `statement_timeout` (milliseconds, 100-600000, default 5000); `options` (libpq's server options) is kept
 * and extended. Everything else is node-postgres's. Throws a one-line Error that never shows the password.
 */
export function parsePostgresUrl(url: string): PostgresUrlOptions {
  const [base, query = ''] = splitOnce(url, '?');
  const params = new URLSearchParams(query);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const value = params.get(name);
    params.delete(name);
    if (value === null) return fallback;
    if (!/^\d+$/.test(value) || +value < min || +value > max) {
      throw new Error(`postgres URL option ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return +value;
  };
  const poolMax = number('max', DEFAULT_POOL_MAX, 1, 1000);
  const statementTimeoutMs = number('statement_timeout', DEFAULT_STATEMENT_TIMEOUT_MS, 100, 600_000);
  const sessionOptions = [params.get('options'), SESSION_OPTIONS].filter(Boolean).join(' ');
  params.delete('options');
  const rest = params.toString();
  return { connectionString: rest === '' ? base : `${base}?${rest}`, poolMax, statementTimeoutMs, sessionOptions };
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * The server store: PostgreSQL through a node-postgres pool.
 *
 * Atomicity without a lock held across round trips: each intention that can be one statement is one
 * (rotation and issuing are data-modifying CTEs); the others are one short transaction on one pooled
 * connection. Every session runs READ COMMITTED (SESSION_OPTIONS).
 */
export function openPostgresStore(url: string): Store {
  const { connectionString, poolMax, statementTimeoutMs, sessionOptions } = parsePostgresUrl(url);
  const queryTimeoutMs = statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS;
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs,
    query_timeout: queryTimeoutMs,
    // A transaction left open by a frozen process must not hold row locks for long.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: 'oauthd',
    options: sessionOptions,
    types,
  });
  // A pooled connection that dies while idle (server restart, pg_terminate_backend, network) is dropped by
  // the pool, which then emits 'error'; without a listener that would crash the process. The next call
  // opens a new connection, or fails with StoreUnavailableError.
  pool.on('error', () => {});
  let closed = false;

  const query: Query = (text, values = []) => pool.query(text, values);

  /**
   * Runs `work` in one transaction on one pooled connection: BEGIN … COMMIT, ROLLBACK on error. A
   * connection that failed (or whose rollback failed) is destroyed rather than returned to the pool.
   */
  const transaction = async <T>(work: (q: Query) => Promise<T>, timeoutMs = queryTimeoutMs): Promise<T> => {
    const client = await pool.connect();
    // While checked out, a dead connection errors the running query (or the next one); without this
    // listener, an error between two queries would be an unhandled 'error' event.
    const ignore = () => {};
    client.on('error', ignore);
    const q: Query = (text, values = []) => client.query({ text, values, query_timeout: timeoutMs } as pg.QueryConfig);
    let broken: Error | undefined;
    try {
      await q('BEGIN');
      const result = await work(q);
      await q('COMMIT');
      return result;
    } catch (error) {
      if (isUnavailable(error)) {
        broken = error as Error; // the server rolls back when the connection closes
      } else {
        await q('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError as Error));
      }
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  };

  /**
   * Revokes the grants `where` selects, then every still-live refresh token, then every still-live access
   * token in them. The order matters: a rotation locks its refresh token, then the access token issued with
   * it; revoking in the same order means the two never wait for each other in a cycle (no deadlock). The
   * grant rows come first: their UPDATE takes a NO KEY UPDATE lock, which a rotation (whose inserts take
   * only KEY SHARE on the grant) never waits for, and which serializes two revocations of one grant.
   */
  const revokeGrantsWhere = async (q: Query, where: string, key: unknown, now: EpochSeconds): Promise<string[]> => {
    const { rows } = await q<{ id: string }>(`UPDATE grants SET revoked_at = $1 WHERE ${where} AND revoked_at IS NULL RETURNING id`, [
      now,
      key,
    ]);
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    // Through the partial indexes of live tokens (migration 4); used and revoked ones are dead already.
    await q('UPDATE refresh_tokens SET revoked_at = $1 WHERE grant_id = ANY ($2::text[]) AND used_at IS NULL AND revoked_at IS NULL', [now, ids]);
    await q('UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = ANY ($2::text[]) AND revoked_at IS NULL', [now, ids]);
    return ids;
  };

  const liveGrantsOf = async (q: Query, userId: number, now: EpochSeconds): Promise<UserGrant[]> => {
    const { rows } = await q<Omit<UserGrant, 'scope'> & { scope: string }>(LIVE_GRANTS_OF_USER, [userId, now]);
    return rows.map((g) => ({ ...g, scope: splitList(g.scope) }));
  };

  const migrate = () =>
    transaction(async (q) => {
      await q(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
      // Several instances starting at once: the first to get the lock migrates, the others wait for its
      // commit, then (READ COMMITTED: each statement sees what was committed before it began) find nothing
      // to do. Taken before anything else, so even the first CREATE TABLE is serialized; held until the
      // transaction ends.
      await q(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await q(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const { rows } = await q<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
      for (const m of migrations) {
        if (m.version <= rows[0]!.v) continue;
        await q(m.postgres);
        await q('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Math.floor(Date.now() / 1000),
        ]);
      }
    }, MIGRATION_TIMEOUT_MS + QUERY_TIMEOUT_GRACE_MS);

  const userRevocation = (q: Query, userId: number, now: EpochSeconds) => revokeGrantsWhere(q, 'user_id = $2', userId, now);

  return guarded(url, {
    migrate,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },

    async createClient(c: NewClient) {
      const { rowCount } = await query(
        `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect, default_scopes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8) ON CONFLICT (client_id) DO NOTHING`,
        [c.clientId, c.name, c.secretHash, c.isPublic, joinList(c.grantTypes), joinList(c.scopes), c.canIntrospect === true, c.createdAt,
          c.defaultScopes ? joinList(c.defaultScopes) : null],
      );
      return rowCount === 1 ? 'created' : 'exists';
    },
    async updateClient(clientId, changes, now) {
      // One statement: a field given as NULL keeps its value (default_scopes: $4 says whether to set it).
      const { rows } = await query<ClientRow>(
        `UPDATE clients SET name = coalesce($1, name), scopes = coalesce($2, scopes), grant_types = coalesce($3, grant_types),
           default_scopes = CASE WHEN $4 THEN $5 ELSE default_scopes END, updated_at = $6
         WHERE client_id = $7 RETURNING *`,
        [
          changes.name ?? null,
          changes.scopes ? joinList(changes.scopes) : null,
          changes.grantTypes ? joinList(changes.grantTypes) : null,
          changes.defaultScopes !== undefined,
          changes.defaultScopes ? joinList(changes.defaultScopes) : null,
          now,
          clientId,
        ],
      );
      return rows[0] ? toClient(rows[0]) : null;
    },
    async findClient(clientId) {
      const { rows } = await query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
      return rows[0] ? toClient(rows[0]) : null;
    },
    async listClients() {
      const { rows } = await query<ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id');
      return rows.map(toClient);
    },
    async deleteClient(clientId) {
      // ON DELETE CASCADE removes the client's grants; their live tokens go first (tokens have no foreign key
      // to grants since migration 4; dead ones are left to the cleanup, and no lookup finds a token without
      // its grant). Locking the grants first waits for rotations in flight (they hold KEY SHARE on their grant,
      // see ROTATE) and makes later ones wait for this commit, after which their grant is gone: so no
      // rotation can add a live token after the DELETE below has looked.
      return transaction(async (q) => {
        await q('SELECT 1 FROM grants WHERE client_id = $1 FOR UPDATE', [clientId]);
        await q('DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = $1)', [clientId]);
        await q(
          'DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = $1)',
          [clientId],
        );
        const { rowCount } = await q('DELETE FROM clients WHERE client_id = $1', [clientId]);
        return rowCount === 1;
      });
    },
    async setClientSecret(clientId, secretHash, now) {
      const { rowCount } = await query(
        'UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3 AND NOT is_public',
        [secretHash, now, clientId],
      );
      return rowCount === 1;
    },

    async createUser(u: NewUser) {
      const { rowCount } = await query(
        `INSERT INTO users (username, password_hash, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (username) DO NOTHING`,
        [u.username, u.passwordHash, u.isActive, u.createdAt],
      );
      return rowCount === 1 ? 'created' : 'exists';
    },
    async findUserByUsername(username) {
      const { rows } = await query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      return rows[0] ? toUser(rows[0]) : null;
    },
    async listUsers() {
      const { rows } = await query<UserRow>('SELECT * FROM users ORDER BY id');
      return rows.map(toUser);
    },
    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      const update = 'UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING id';
      if (!revokeGrants) return (await query(update, [passwordHash, now, username])).rowCount === 1;
      return transaction(async (q) => {
        const { rows } = await q<{ id: number }>(update, [passwordHash, now, username]);
        if (!rows[0]) return false;
        await userRevocation(q, rows[0].id, now);
        return true;
      });
    },
    async replacePasswordHash(userId, expectedHash, newHash, now) {
      // Conditional: a concurrent set-password (the hash is no longer expectedHash) wins.
      await query('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4', [
        newHash,
        now,
        userId,
        expectedHash,
      ]);
    },
    async setUserActive(username, isActive, now) {
      const update = 'UPDATE users SET is_active = $1, updated_at = $2 WHERE username = $3 RETURNING id';
      if (isActive) return (await query(update, [true, now, username])).rowCount === 1;
      return transaction(async (q) => {
        const { rows } = await q<{ id: number }>(update, [false, now, username]);
        if (!rows[0]) return false;
        // Disabling a user ends every session it has: tokens stop working at once.
        await userRevocation(q, rows[0].id, now);
        return true;
      });
    },
    async renameUser(username, newUsername, now) {
      try {
        const { rowCount } = await query('UPDATE users SET username = $1, updated_at = $2 WHERE username = $3', [newUsername, now, username]);
        return rowCount === 1 ? 'renamed' : 'not_found';
      } catch (error) {
        if ((error as { code?: unknown }).code === '23505') return 'exists'; // unique_violation: the name is taken
        throw error;
      }
    },
    async deleteUser(username, now) {
      // As deleteClient: the user row, then its grants, are locked first, so a rotation in flight finishes
      // before (its live tokens are then deleted here) and a later one finds its grant gone.
      return transaction(async (q) => {
        const { rows } = await q<UserRow>('SELECT * FROM users WHERE username = $1 FOR UPDATE', [username]);
        const row = rows[0];
        if (!row) return null;
        await q('SELECT 1 FROM grants WHERE user_id = $1 FOR UPDATE', [row.id]);
        const liveGrants = (await liveGrantsOf(q, row.id, now)).length;
        await q('DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)', [row.id]);
        await q(
          'DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)',
          [row.id],
        );
        await q('DELETE FROM users WHERE id = $1', [row.id]);
        return { user: toUser(row), liveGrants };
      });
    },
    async listUserGrants(userId, now) {
      return liveGrantsOf(query, userId, now);
    },
    async revokeUserGrants(userId, { clientId, now }) {
      return transaction(async (q) => {
        const ids = (await liveGrantsOf(q, userId, now)).filter((g) => clientId === undefined || g.clientId === clientId).map((g) => g.grantId);
        if (ids.length === 0) return [];
        return revokeGrantsWhere(q, 'id = ANY ($2::text[])', ids, now);
      });
    },
    async recordLockouts(lockouts) {
      if (lockouts.length === 0) return;
      await query(
        `INSERT INTO lockouts (kind, username, client_id, ip_key, started_at, locked_until)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])`,
        [
          lockouts.map((l) => l.kind), lockouts.map((l) => l.username), lockouts.map((l) => l.clientId),
          lockouts.map((l) => l.ipKey), lockouts.map((l) => l.startedAt), lockouts.map((l) => l.until),
        ],
      );
    },
    async listActiveLockouts(now) {
      const { rows } = await query<LockoutRow>('SELECT * FROM lockouts WHERE cleared_at IS NULL AND locked_until > $1 ORDER BY started_at, id', [now]);
      return rows.map(toLockout);
    },
    async clearLockouts(match: LockoutMatch, now) {
      const [column, key] = 'username' in match ? ['username', match.username] : ['ip_key', match.ipKey];
      const { rows } = await query<LockoutRow>(
        `UPDATE lockouts SET cleared_at = $1 WHERE cleared_at IS NULL AND locked_until > $1 AND ${column} = $2 RETURNING *`,
        [now, key],
      );
      return rows.map(toLockout);
    },
    async lockoutsClearedSince(since) {
      const { rows } = await query<LockoutRow>('SELECT * FROM lockouts WHERE cleared_at >= $1 ORDER BY cleared_at, id', [since]);
      return rows.map(toLockout);
    },
    async counts() {
      const { rows } = await query<{ clients: number; users: number }>(
        'SELECT (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM users) AS users',
      );
      return { clients: rows[0]!.clients, users: rows[0]!.users };
    },

    async issueTokens(t: IssueTokens) {
      // One statement, so atomic on its own; the foreign keys are checked at its end, when the grant exists.
      // Nothing is written for a client deleted since it was authenticated: the EXISTS sees a delete committed
      // before the statement began; one committed while it ran fails the foreign key (23503).
      let rowCount: number | null;
      try {
        ({ rowCount } = await query(
          `WITH grant_row AS (
             INSERT INTO grants (id, client_id, user_id, scope, created_at)
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = $2)
             RETURNING id
           ), access AS (
             INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
             SELECT $6, id, $7, $8, $9 FROM grant_row
           )
           INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
           SELECT $10, id, $6, $11, $12, $13 FROM grant_row`,
          [
            t.grant.id, t.grant.clientId, t.grant.userId, joinList(t.grant.scope), t.grant.createdAt,
            t.access.hash, joinList(t.access.scope), t.access.issuedAt, t.access.expiresAt,
            t.refresh.hash, joinList(t.refresh.scope), t.refresh.issuedAt, t.refresh.expiresAt,
          ],
        ));
      } catch (error) {
        if ((error as { code?: unknown }).code === '23503') return 'client_gone';
        throw error;
      }
      return rowCount === 1 ? 'issued' : 'client_gone';
    },
    async findAccessToken(hash) {
      const { rows } = await query<Omit<AccessTokenRecord, 'scope'> & { scope: string }>(
        `SELECT a.grant_id AS "grantId", g.client_id AS "clientId", g.user_id AS "userId",
           u.username AS username, u.is_active AS "userIsActive", a.scope AS scope,
           a.issued_at AS "issuedAt", a.expires_at AS "expiresAt", coalesce(a.revoked_at, g.revoked_at) AS "revokedAt"
         FROM access_tokens a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id
         WHERE a.token_hash = $1`,
        [hash],
      );
      const row = rows[0];
      return row ? { ...row, scope: splitList(row.scope) } : null;
    },
    async findRefreshToken(hash) {
      const { rows } = await query<
        Omit<RefreshTokenRecord, 'scope' | 'successor'> & { scope: string; successorResponse: Buffer | null; successorLive: boolean | null }
      >(
        `SELECT r.grant_id AS "grantId", g.client_id AS "clientId", g.user_id AS "userId",
           u.username AS username, u.is_active AS "userIsActive", r.scope AS scope,
           r.issued_at AS "issuedAt", r.expires_at AS "expiresAt",
           r.used_at AS "usedAt", coalesce(r.revoked_at, g.revoked_at) AS "revokedAt",
           r.successor_response AS "successorResponse",
           (s.used_at IS NULL AND s.revoked_at IS NULL AND g.revoked_at IS NULL) AS "successorLive"
         FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id JOIN users u ON u.id = g.user_id
           LEFT JOIN refresh_tokens s ON s.token_hash = r.successor_hash
         WHERE r.token_hash = $1`,
        [hash],
      );
      const row = rows[0];
      if (!row) return null;
      const { successorResponse, successorLive, ...rest } = row;
      return {
        ...rest,
        scope: splitList(row.scope),
        successor: successorResponse ? { response: successorResponse, live: successorLive === true } : null,
      };
    },
    async rotateRefreshToken(r: RotateRefreshToken): Promise<RotateResult> {
      const { rows } = await query<TokenState & { won: boolean }>(ROTATE, [
        r.now, r.presentedHash, r.grantId,
        r.access.hash, joinList(r.access.scope), r.access.issuedAt, r.access.expiresAt,
        r.refresh.hash, joinList(r.refresh.scope), r.refresh.issuedAt, r.refresh.expiresAt,
        r.successorResponse ?? null,
      ]);
      const result = rows[0]!;
      if (result.won) return 'rotated';
      const state = loserState(result);
      if (state !== 'live') return state;
      // Lost, yet live in the statement's snapshot: a concurrent transaction changed the row after that
      // snapshot was taken (the UPDATE waited for its commit, then re-checked the row and found it used or
      // revoked). A new statement sees that commit.
      const now = await query<TokenState>(
        `SELECT true AS found, r.used_at, coalesce(r.revoked_at, g.revoked_at) AS revoked_at
         FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1 AND r.grant_id = $2`,
        [r.presentedHash, r.grantId],
      );
      const after = now.rows[0] ? loserState(now.rows[0]) : 'not_found';
      if (after === 'live') {
        // Cannot happen: used_at and revoked_at are never cleared. Refuse rather than guess a policy.
        throw new Error('postgres: a rotation lost to no visible change of its refresh token');
      }
      return after;
    },
    async ping() {
      await query('SELECT 1', []);
    },
    async deleteExpired({ now, retentionSeconds, limit, auditRetentionSeconds }) {
      // Short statements, each walking partial indexes for at most `limit` rows. A revoked grant goes with
      // whatever live token it still has (one a rotation racing its revocation committed): tokens have no
      // foreign key to grants since migration 4, and a live token is not reached by the criteria below.
      const before = now - retentionSeconds;
      const grants = await query(
        `WITH doomed AS (SELECT id FROM grants WHERE revoked_at < $1 LIMIT $2),
           live_access AS (DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM doomed)),
           live_refresh AS (DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM doomed))
         DELETE FROM grants WHERE id IN (SELECT id FROM doomed)`,
        [before, limit],
      );
      const access = await query(
        `DELETE FROM access_tokens WHERE token_hash IN (SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)`,
        [now, limit],
      );
      const refresh = await query(
        `DELETE FROM refresh_tokens WHERE token_hash IN (
           SELECT token_hash FROM refresh_tokens WHERE used_at < $1
           UNION SELECT token_hash FROM refresh_tokens WHERE revoked_at < $1
           UNION SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)`,
        [before, limit],
      );
      const lockouts = await query('DELETE FROM lockouts WHERE id IN (SELECT id FROM lockouts WHERE locked_until < $1 LIMIT $2)', [before, limit]);
      const audit =
        auditRetentionSeconds === undefined
          ? { rowCount: 0 }
          : await query(`DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)`, [
              now - auditRetentionSeconds,
              limit,
            ]);
      return (grants.rowCount ?? 0) + (access.rowCount ?? 0) + (refresh.rowCount ?? 0) + (audit.rowCount ?? 0) + (lockouts.rowCount ?? 0);
    },
    async eraseSealedSuccessors({ now, graceSeconds, usedFrom, limit }) {
      // As the SQLite store: the batch ends at the used_at of the (limit+1)-th used token from usedFrom (the
      // used_at index), or covers the whole second usedFrom when more than limit tokens share it.
      const before = now - graceSeconds;
      const boundary = await query<{ used_at: string }>(
        'SELECT used_at FROM refresh_tokens WHERE used_at >= $1 AND used_at < $2 ORDER BY used_at LIMIT 1 OFFSET $3',
        [usedFrom, before, limit],
      );
      const upTo = boundary.rows[0] === undefined ? before : Math.max(Number(boundary.rows[0].used_at), usedFrom + 1);
      const erased = await query(
        'UPDATE refresh_tokens SET successor_response = NULL WHERE used_at >= $1 AND used_at < $2 AND successor_response IS NOT NULL',
        [usedFrom, Math.min(upTo, before)],
      );
      return { erased: erased.rowCount ?? 0, next: upTo >= before ? null : upTo };
    },
    async revokeGrant(grantId, now) {
      await transaction((q) => revokeGrantsWhere(q, 'id = $2', grantId, now));
    },
    async recordAuditEvents(events) {
      if (events.length === 0) return;
      // One statement for the whole batch.
      await query(
        `INSERT INTO audit_events (at, event, client_id, user_id, username, grant_id, ip, detail)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])`,
        [
          events.map((e) => e.at), events.map((e) => e.event), events.map((e) => e.clientId), events.map((e) => e.userId),
          events.map((e) => e.username), events.map((e) => e.grantId), events.map((e) => e.ip), events.map((e) => e.detail),
        ],
      );
    },
    async queryAuditEvents(q) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const add = (clause: string, value: string | number) => {
        args.push(value);
        where.push(clause.replace('?', `$${args.length}`));
      };
      if (q.event !== undefined) add('event = ?', q.event);
      if (q.clientId !== undefined) add('client_id = ?', q.clientId);
      if (q.username !== undefined) add('username = ?', q.username);
      if (q.since !== undefined) add('at >= ?', q.since);
      if (q.until !== undefined) add('at < ?', q.until);
      args.push(q.limit);
      const { rows } = await query<AuditEvent>(
        `SELECT at, event, client_id AS "clientId", user_id AS "userId", username, grant_id AS "grantId", ip, detail
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${args.length}`,
        args,
      );
      return rows;
    },
  });
}

interface TokenState {
  found: boolean;
  used_at: number | null;
  revoked_at: number | null;
}

/** What the contract answers for a token that was not rotated, as SQLite orders it: reuse first. */
function loserState(s: TokenState): Exclude<RotateResult, 'rotated'> | 'live' {
  if (!s.found) return 'not_found';
  if (s.used_at !== null) return 'already_used';
  if (s.revoked_at !== null) return 'revoked';
  return 'live';
}

/**
 * Single use of a refresh token, in one statement (atomic without an explicit transaction).
 *
 * `used` is the conditional UPDATE: it matches only a live, unused token of a live grant. Of N concurrent
 * calls, the first to lock the row updates it; under READ COMMITTED the others wait for that commit,
 * then re-check their WHERE against the new row version (used_at is set now), match nothing and return
 * no row. So exactly one wins. The other sub-statements act only through `used`: the previous access
 * token is revoked, and the new pair inserted, only when the UPDATE matched. The grant is held FOR KEY SHARE
 * (what a foreign key's check took before migration 4): a revocation (NO KEY UPDATE) does not wait for it,
 * deleting the grant (deleteClient) does. The new refresh token is marked `from_rotation` (for the importer).
 *
 * The final SELECT sees the snapshot taken when the statement began (not the effects of its own
 * sub-statements, nor a commit it waited for), which tells the loser why when the token was already
 * used, revoked or absent at that point; see rotateRefreshToken for the case where it was still live.
 */
const ROTATE = `
  WITH used AS (
    UPDATE refresh_tokens SET used_at = $1::bigint, successor_hash = $8::bytea, successor_response = $12::bytea
    WHERE token_hash = $2::bytea AND grant_id = $3::text AND used_at IS NULL AND revoked_at IS NULL
      AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id AND g.revoked_at IS NULL FOR KEY SHARE)
    RETURNING access_token_hash
  ), revoked AS (
    UPDATE access_tokens SET revoked_at = $1::bigint
    WHERE token_hash IN (SELECT access_token_hash FROM used) AND revoked_at IS NULL
  ), new_access AS (
    INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
    SELECT $4::bytea, $3::text, $5::text, $6::bigint, $7::bigint WHERE EXISTS (SELECT 1 FROM used)
  ), new_refresh AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at, from_rotation)
    SELECT $8::bytea, $3::text, $4::bytea, $9::text, $10::bigint, $11::bigint, true WHERE EXISTS (SELECT 1 FROM used)
  )
  SELECT EXISTS (SELECT 1 FROM used) AS won, r.token_hash IS NOT NULL AS found, r.used_at,
    coalesce(r.revoked_at, g.revoked_at) AS revoked_at
  FROM (VALUES (1)) AS one (x)
  LEFT JOIN refresh_tokens r ON r.token_hash = $2::bytea AND r.grant_id = $3::text
  LEFT JOIN grants g ON g.id = r.grant_id`;

/** SQLSTATE classes and codes that mean "the database cannot serve this now", not "the request is wrong". */
const UNAVAILABLE_SQLSTATE = [
  /^08/, // connection exception
  /^28/, // invalid authorization (credentials changed under a running server)
  /^3D000$/, // the database does not exist (dropped, misnamed)
  /^40001$|^40P01$/, // serialization failure, deadlock: transient, nothing was written
  /^53/, // insufficient resources: too many connections, disk full, out of memory
  /^55P03$/, // lock not available
  /^57014$/, // query canceled: statement_timeout
  /^57P0/, // admin or crash shutdown, cannot connect now, database dropped
  /^58/, // system error (I/O)
  /^25006$/, // read-only transaction: a failover left us on a standby
];
/** Socket errors of node:net and node:dns. */
const UNAVAILABLE_ERRNO = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN|EPIPE|EADDRNOTAVAIL|ENOENT)$/;
/** node-postgres's own errors for lost connections and timeouts, which carry no code. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.some((re) => re.test(code))) return true;
    if (UNAVAILABLE_ERRNO.test(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  // Happy eyeballs (several addresses for one host name) fails with an AggregateError of socket errors.
  if (error instanceof AggregateError) return error.errors.length > 0 && error.errors.every(isUnavailable);
  return false;
}

/** Maps infrastructure failures of every method to StoreUnavailableError (the Store contract). */
function guarded(url: string, store: Store): Store {
  const passwords = passwordsOf(url);
  const wrapped = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(store) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        const { code, message } = error as { code?: unknown; message?: unknown };
        let text = `postgres: ${typeof code === 'string' ? `${code} ` : ''}${String(message ?? error)}`.split('\n')[0]!;
        // No driver message we know of holds the password; make sure none ever carries it into a log.
        for (const password of passwords) text = text.split(password).join('***');
        throw new StoreUnavailableError(text, { cause: error });
      }
    };
  }
  return wrapped as unknown as Store;
}

/** The password of a database URL as written and decoded, for redaction. */
function passwordsOf(url: string): string[] {
  const written = /^[^:]+:\/\/[^:/@]*:([^@/]*)@/.exec(url)?.[1];
  if (!written) return [];
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {
    // not percent-encoded as written: keep it as is
  }
  return [...new Set([written, decoded])];
}
