import type Database from 'better-sqlite3';
import type { IssueTokens, RotateRefreshToken, RotateResult, TokenStore } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import {
  joinList,
  toAccessTokenRecord,
  toRefreshTokenRecord,
  type AccessTokenRow,
  type RefreshTokenRow,
} from '../rows.js';
import type { SqliteConnection } from './connection.js';

/**
 * Grants and their tokens. Lookups join this turn's read transaction; issue, rotate and revoke are hot writes
 * (group commit), whose SQL is registered with the connection's queue here.
 */
export function sqliteTokens(conn: SqliteConnection): TokenStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareTokenStatements> | undefined;
  const sql = () => (statements ??= prepareTokenStatements(db));
  conn.registerWrites({
    issueTokens: (tokens) => insertGrantWithTokens(sql(), tokens),
    rotate: (rotation) => rotate(sql(), rotation),
    revokeGrant: grantRevoker(db),
  });

  return {
    issueTokens: (tokens) => conn.queueWrite('issueTokens', tokens),
    rotateRefreshToken: (rotation) => conn.queueWrite('rotate', rotation),
    revokeGrant: (grantId, now) => conn.queueWrite('revokeGrant', grantId, now),
    async findAccessToken(hash) {
      return conn.readInTurn(() =>
        conn.accessTokenCache.get(hash, () => {
          const row = sql().accessByHash.get(hash) as AccessTokenRow | undefined;
          return row ? toAccessTokenRecord(row) : null;
        }),
      );
    },
    async findRefreshToken(hash) {
      const row = conn.readInTurn(() => sql().refreshByHash.get(hash)) as RefreshTokenRow | undefined;
      if (!row) return null;
      // A used token may have been used by a commit whose sync is still in flight: what this answer leads to
      // (the sealed successor handed out again, or reuse detected) must not rest on a commit that can be lost.
      if (row.usedAt !== null) await conn.waitDurable();
      return toRefreshTokenRecord(row);
    },
  };
}

type TokenStatements = ReturnType<typeof prepareTokenStatements>;

/**
 * Writes a grant and its first tokens as issueTokens does, inside the caller's write transaction (the code and
 * device-code redemptions). Statements prepared at first use.
 */
export function grantIssuer(db: Database.Database): (tokens: IssueTokens) => 'issued' | 'client_gone' {
  let statements: TokenStatements | undefined;
  return (tokens) => {
    statements ??= prepareTokenStatements(db);
    return insertGrantWithTokens(statements, tokens);
  };
}

function insertGrantWithTokens(sql: TokenStatements, t: IssueTokens): 'issued' | 'client_gone' {
  const { grant, access, refresh } = t;
  // Only for a client that still exists: the write lock makes the check exact.
  const scope = joinList(grant.scope);
  const origin = grant.grantType ?? 'password';
  const inserted = sql.insertGrant.run(
    grant.id,
    grant.clientId,
    grant.userId,
    scope,
    grant.createdAt,
    origin,
    grant.clientId,
  );
  if (inserted.changes === 0) return 'client_gone';
  sql.insertAccess.run(access.hash, grant.id, joinList(access.scope), access.issuedAt, access.expiresAt);
  // client_credentials: no refresh token (RFC 6749 §4.4.3).
  if (refresh === null) return 'issued';
  const { hash, issuedAt, expiresAt } = refresh;
  sql.insertRefresh.run(hash, grant.id, access.hash, joinList(refresh.scope), issuedAt, expiresAt, 0);
  return 'issued';
}

function rotate(sql: TokenStatements, r: RotateRefreshToken): RotateResult {
  // The single-use guarantee: one conditional UPDATE. Only a live, unused token in a live grant matches.
  const won = sql.useRefresh.get(r.now, r.refresh.hash, r.successorResponse ?? null, r.presentedHash, r.grantId) as
    | { access_token_hash: Uint8Array | null }
    | undefined;
  if (won) {
    if (won.access_token_hash) sql.revokeAccess.run(r.now, won.access_token_hash);
    sql.insertAccess.run(r.access.hash, r.grantId, joinList(r.access.scope), r.access.issuedAt, r.access.expiresAt);
    const { hash, scope, issuedAt, expiresAt } = r.refresh;
    sql.insertRefresh.run(hash, r.grantId, r.access.hash, joinList(scope), issuedAt, expiresAt, 1);
    return 'rotated';
  }
  const row = sql.refreshState.get(r.presentedHash, r.grantId) as
    | { used_at: number | null; revoked_at: number | null }
    | undefined;
  if (!row) return 'not_found';
  if (row.used_at !== null) return 'already_used';
  return 'revoked';
}

/**
 * Revokes a grant and its live tokens, inside the caller's write transaction (the revokeGrant hot write, and
 * users.ts's revocations of a user's grants). Statements prepared at first use.
 */
export function grantRevoker(db: Database.Database): (grantId: string, now: EpochSeconds) => void {
  let statements: ReturnType<typeof prepareRevocation> | undefined;
  return (grantId, now) => {
    statements ??= prepareRevocation(db);
    const sql = statements;
    sql.revokeGrant.run(now, grantId);
    sql.revokeGrantAccess.run(now, grantId);
    sql.revokeGrantRefresh.run(now, grantId);
  };
}

function prepareRevocation(db: Database.Database) {
  return {
    revokeGrant: db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    // The grant's live tokens, through the partial indexes that hold only those (migration 4). Its used and
    // revoked tokens are dead already, and lookups see the grant's revocation through the join.
    revokeGrantAccess: db.prepare(`UPDATE access_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL`),
    revokeGrantRefresh: db.prepare(`UPDATE refresh_tokens SET revoked_at = ?
      WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL`),
  };
}

function prepareTokenStatements(db: Database.Database) {
  return {
    insertGrant: db.prepare(`INSERT INTO grants (id, client_id, user_id, scope, created_at, grant_type)
      SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?)`),
    insertAccess: db.prepare(`INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
      VALUES (?, ?, ?, ?, ?)`),
    insertRefresh: db.prepare(`INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at,
        expires_at, from_rotation)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    useRefresh: db.prepare(`UPDATE refresh_tokens SET used_at = ?, successor_hash = ?, successor_response = ?
      WHERE token_hash = ? AND grant_id = ? AND used_at IS NULL AND revoked_at IS NULL
        AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id AND g.revoked_at IS NULL)
      RETURNING access_token_hash`),
    refreshState: db.prepare(`SELECT r.used_at, coalesce(r.revoked_at, g.revoked_at) AS revoked_at
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = ? AND r.grant_id = ?`),
    revokeAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL'),
    accessByHash: db.prepare(`SELECT a.grant_id AS grantId, g.client_id AS clientId, g.user_id AS userId,
        u.username AS username, coalesce(u.is_active, 1) AS userIsActive,
        coalesce(u.is_admin, 0) AS userIsAdmin, a.scope AS scope,
        a.issued_at AS issuedAt, a.expires_at AS expiresAt, coalesce(a.revoked_at, g.revoked_at) AS revokedAt
      FROM access_tokens a JOIN grants g ON g.id = a.grant_id LEFT JOIN users u ON u.id = g.user_id
      WHERE a.token_hash = ?`),
    refreshByHash: db.prepare(`SELECT r.grant_id AS grantId, g.client_id AS clientId, g.user_id AS userId,
        u.username AS username, coalesce(u.is_active, 1) AS userIsActive, r.scope AS scope, r.issued_at AS issuedAt,
        g.grant_type AS grantType, g.created_at AS grantCreatedAt,
        r.expires_at AS expiresAt, r.used_at AS usedAt, coalesce(r.revoked_at, g.revoked_at) AS revokedAt,
        r.successor_response AS successorResponse,
        (s.used_at IS NULL AND s.revoked_at IS NULL AND g.revoked_at IS NULL) AS successorLive
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id LEFT JOIN users u ON u.id = g.user_id
        LEFT JOIN refresh_tokens s ON s.token_hash = r.successor_hash
      WHERE r.token_hash = ?`),
  };
}
