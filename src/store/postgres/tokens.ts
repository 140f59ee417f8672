import type { IssueTokens, RotateRefreshToken, RotateResult, TokenStore } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import {
  joinList,
  toAccessTokenRecord,
  toRefreshTokenRecord,
  type AccessTokenRow,
  type RefreshTokenRow,
} from '../rows.js';
import type { PostgresConnection, Query } from './connection.js';

/**
 * A grant and its first pair in one statement, so atomic on its own; the foreign keys are checked at its
 * end, when the grant exists. Nothing is written for a client deleted since it was authenticated: the
 * EXISTS sees a delete committed before the statement began; one committed while it ran fails the foreign
 * key (23503). A client_credentials grant has no refresh token ($10 null): the grant row says it was issued.
 */
const ISSUE = `
  WITH grant_row AS (
    INSERT INTO grants (id, client_id, user_id, scope, created_at, grant_type)
    SELECT $1, $2, $3, $4, $5, $14 WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = $2)
    RETURNING id
  ), access AS (
    INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
    SELECT $6, id, $7, $8, $9 FROM grant_row
  ), refresh AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
    SELECT $10, id, $6, $11, $12, $13 FROM grant_row WHERE $10::bytea IS NOT NULL
  )
  SELECT id FROM grant_row`;

const FIND_ACCESS_TOKEN = `
  SELECT a.grant_id AS "grantId", g.client_id AS "clientId", g.user_id AS "userId",
    u.username AS username, coalesce(u.is_active, true) AS "userIsActive",
    coalesce(u.is_admin, false) AS "userIsAdmin", a.scope AS scope,
    a.issued_at AS "issuedAt", a.expires_at AS "expiresAt", coalesce(a.revoked_at, g.revoked_at) AS "revokedAt"
  FROM access_tokens a JOIN grants g ON g.id = a.grant_id LEFT JOIN users u ON u.id = g.user_id
  WHERE a.token_hash = $1`;

const FIND_REFRESH_TOKEN = `
  SELECT r.grant_id AS "grantId", g.client_id AS "clientId", g.user_id AS "userId",
    u.username AS username, coalesce(u.is_active, true) AS "userIsActive", r.scope AS scope,
    g.grant_type AS "grantType", g.created_at AS "grantCreatedAt",
    r.issued_at AS "issuedAt", r.expires_at AS "expiresAt",
    r.used_at AS "usedAt", coalesce(r.revoked_at, g.revoked_at) AS "revokedAt",
    r.successor_response AS "successorResponse",
    (s.used_at IS NULL AND s.revoked_at IS NULL AND g.revoked_at IS NULL) AS "successorLive"
  FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id LEFT JOIN users u ON u.id = g.user_id
    LEFT JOIN refresh_tokens s ON s.token_hash = r.successor_hash
  WHERE r.token_hash = $1`;

/**
 * Single use of a refresh token, in one statement (atomic without an explicit transaction).
 *
 * `used` is the conditional UPDATE: it matches only a live, unused token of a live grant. Under READ
 * COMMITTED the first of N concurrent calls to lock the row updates it; the others wait for its commit,
 * re-check their WHERE on the new row version and match nothing, so exactly one wins. The other
 * sub-statements act only through `used`. The grant is held FOR KEY SHARE: a revocation (NO KEY UPDATE) does
 * not wait for it, deleting the grant (deleteClient) does. The new refresh token is marked `from_rotation`.
 * The final SELECT sees the statement's starting snapshot: it tells a loser why, unless the token was still
 * live then (see rotateRefreshToken). docs/design-notes.md, *PostgreSQL*.
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

/** Reads the presented refresh token again, in a new statement (so a new snapshot). */
const PRESENTED_REFRESH_TOKEN = `SELECT true AS found, r.used_at, coalesce(r.revoked_at, g.revoked_at) AS revoked_at
  FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1 AND r.grant_id = $2`;

interface RefreshTokenStateRow {
  found: boolean;
  used_at: number | null;
  revoked_at: number | null;
}

/** A refresh token's state as the rotation's loser sees it; every state but 'live' is the contract's answer. */
type RefreshTokenState = Exclude<RotateResult, 'rotated'> | 'live';

/** As SQLite orders it: reuse first. */
function refreshTokenState(row: RefreshTokenStateRow): RefreshTokenState {
  if (!row.found) return 'not_found';
  if (row.used_at !== null) return 'already_used';
  if (row.revoked_at !== null) return 'revoked';
  return 'live';
}

/**
 * Revokes the grants `where` selects, then their still-live refresh tokens, then their still-live access
 * tokens. A rotation locks its refresh token, then its access token: the same order, so the two never wait
 * for each other in a cycle. The grant rows' NO KEY UPDATE lock does not wait for a rotation's KEY SHARE, and
 * serializes two revocations of one grant. docs/design-notes.md, *PostgreSQL* (Lock order).
 */
export async function revokeGrantsWhere(
  query: Query,
  where: string,
  key: unknown,
  now: EpochSeconds,
  ...moreKeys: unknown[]
): Promise<string[]> {
  const { rows } = await query<{ id: string }>(
    `UPDATE grants SET revoked_at = $1 WHERE ${where} AND revoked_at IS NULL RETURNING id`,
    [now, key, ...moreKeys],
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  // Through the partial indexes of live tokens (migration 4); used and revoked ones are dead already.
  await query(
    `UPDATE refresh_tokens SET revoked_at = $1
     WHERE grant_id = ANY ($2::text[]) AND used_at IS NULL AND revoked_at IS NULL`,
    [now, ids],
  );
  await query('UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = ANY ($2::text[]) AND revoked_at IS NULL', [
    now,
    ids,
  ]);
  return ids;
}

/** Writes a grant and its first tokens (the ISSUE statement), alone or inside the caller's transaction. */
export async function issueGrantWithTokens(query: Query, tokens: IssueTokens): Promise<'issued' | 'client_gone'> {
  const { refresh } = tokens;
  let issued: number | null;
  try {
    ({ rowCount: issued } = await query(ISSUE, [
      tokens.grant.id,
      tokens.grant.clientId,
      tokens.grant.userId,
      joinList(tokens.grant.scope),
      tokens.grant.createdAt,
      tokens.access.hash,
      joinList(tokens.access.scope),
      tokens.access.issuedAt,
      tokens.access.expiresAt,
      refresh?.hash ?? null,
      refresh ? joinList(refresh.scope) : null,
      refresh?.issuedAt ?? null,
      refresh?.expiresAt ?? null,
      tokens.grant.grantType ?? 'password',
    ]));
  } catch (error) {
    if ((error as { code?: unknown }).code === '23503') return 'client_gone';
    throw error;
  }
  return issued === 1 ? 'issued' : 'client_gone';
}

export function postgresTokens({ query, inTransaction }: PostgresConnection): TokenStore {
  return {
    issueTokens: (tokens: IssueTokens) => issueGrantWithTokens(query, tokens),

    async findAccessToken(hash) {
      const { rows } = await query<AccessTokenRow>(FIND_ACCESS_TOKEN, [hash]);
      return rows[0] ? toAccessTokenRecord(rows[0]) : null;
    },

    async findRefreshToken(hash) {
      const { rows } = await query<RefreshTokenRow>(FIND_REFRESH_TOKEN, [hash]);
      return rows[0] ? toRefreshTokenRecord(rows[0]) : null;
    },

    async rotateRefreshToken(rotation: RotateRefreshToken): Promise<RotateResult> {
      const { rows } = await query<RefreshTokenStateRow & { won: boolean }>(ROTATE, [
        rotation.now,
        rotation.presentedHash,
        rotation.grantId,
        rotation.access.hash,
        joinList(rotation.access.scope),
        rotation.access.issuedAt,
        rotation.access.expiresAt,
        rotation.refresh.hash,
        joinList(rotation.refresh.scope),
        rotation.refresh.issuedAt,
        rotation.refresh.expiresAt,
        rotation.successorResponse ?? null,
      ]);
      const result = rows[0]!;
      if (result.won) return 'rotated';
      const stateAtStart = refreshTokenState(result);
      if (stateAtStart !== 'live') return stateAtStart;
      // Lost, yet live in the statement's snapshot: a concurrent transaction changed the row after that
      // snapshot was taken (the UPDATE waited for its commit, then found the row used or revoked). A new
      // statement sees that commit.
      const again = await query<RefreshTokenStateRow>(PRESENTED_REFRESH_TOKEN, [
        rotation.presentedHash,
        rotation.grantId,
      ]);
      const stateNow = again.rows[0] ? refreshTokenState(again.rows[0]) : 'not_found';
      if (stateNow === 'live') {
        // Cannot happen: used_at and revoked_at are never cleared. Refuse rather than guess a policy.
        throw new Error('postgres: a rotation lost to no visible change of its refresh token');
      }
      return stateNow;
    },

    async revokeGrant(grantId, now) {
      await inTransaction((tx) => revokeGrantsWhere(tx, 'id = $2', grantId, now));
    },
  };
}
