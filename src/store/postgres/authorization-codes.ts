import type {
  AuthorizationCodeStore,
  RedeemAuthorizationCode,
  RedeemCodeResult,
} from '../../core/authorization-ports.js';
import { toAuthorizationCode, type AuthorizationCodeRow, type CodeStateRow } from '../authorization-rows.js';
import { joinList } from '../rows.js';
import type { PostgresConnection, Query } from './connection.js';
import { issueGrantWithTokens, revokeGrantsWhere } from './tokens.js';

/** 23503: a foreign key names a row that is gone (its client or user was deleted meanwhile). */
export const isForeignKeyViolation = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === '23503';

/**
 * Holds the client and the user a redemption writes a grant for (FOR KEY SHARE), before the code's row: a
 * deleteClient or deleteUser locks its parent row before the cascade reaches the code, so taking the parents
 * first is the same order and the two never wait for each other in a cycle. Which one is missing, if any.
 */
export async function lockGrantParents(
  tx: Query,
  clientId: string,
  userId: number | null,
): Promise<'client' | 'user' | null> {
  const client = await tx('SELECT 1 FROM clients WHERE client_id = $1 FOR KEY SHARE', [clientId]);
  if (client.rowCount !== 1) return 'client';
  const user = await tx('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [userId]);
  return user.rowCount === 1 ? null : 'user';
}

/** A redemption that found the code unused, then lost the conditional UPDATE to a concurrent one. */
class LostRace extends Error {}

const CODE_STATE = 'SELECT client_id, user_id, used_at, grant_id, expires_at FROM authorization_codes WHERE hash = $1';

/**
 * One attempt, in one transaction (READ COMMITTED). A used code is final, so reuse needs no lock on it: its
 * grant is revoked in this transaction. An unused one is taken by the conditional UPDATE: of concurrent
 * attempts the first to lock the row wins; the others wait for its commit, match nothing, and roll back.
 */
async function attemptRedeem(tx: Query, r: RedeemAuthorizationCode): Promise<RedeemCodeResult> {
  const { grant, now } = r;
  const code = (await tx<CodeStateRow>(CODE_STATE, [r.codeHash])).rows[0];
  if (!code) {
    // The code goes with its client (ON DELETE CASCADE): a code missing because its client is gone is that.
    const client = await tx('SELECT 1 FROM clients WHERE client_id = $1', [grant.clientId]);
    return client.rowCount === 1 ? { outcome: 'not_found' } : { outcome: 'client_gone' };
  }
  // Only the client and user the code was issued to get a grant from it (RFC 6749 §4.1.3).
  if (code.client_id !== grant.clientId || code.user_id !== grant.userId) return { outcome: 'not_found' };
  if (code.used_at !== null) {
    // RFC 6749 §4.1.2: a code used twice revokes what its first exchange issued, in this same transaction.
    if (code.grant_id !== null) await revokeGrantsWhere(tx, 'id = $2', code.grant_id, now);
    return { outcome: 'reused', grantId: code.grant_id };
  }
  if (code.expires_at <= now) return { outcome: 'expired' };
  const missing = await lockGrantParents(tx, grant.clientId, grant.userId);
  if (missing === 'client') return { outcome: 'client_gone' };
  if (missing === 'user') return { outcome: 'not_found' };
  const won = await tx(
    `UPDATE authorization_codes SET used_at = $1, grant_id = $2
     WHERE hash = $3 AND used_at IS NULL AND expires_at > $1`,
    [now, grant.id, r.codeHash],
  );
  if (won.rowCount !== 1) throw new LostRace();
  const issued = await issueGrantWithTokens(tx, {
    grant: { ...grant, grantType: 'authorization_code' },
    access: r.access,
    refresh: r.refresh,
  });
  // Cannot happen (the client is held); throwing rolls the mark back.
  if (issued !== 'issued') throw new Error('postgres: a code redemption lost its client while holding it');
  return { outcome: 'redeemed' };
}

export function postgresAuthorizationCodes({ query, inTransaction }: PostgresConnection): AuthorizationCodeStore {
  return {
    async createAuthorizationCode(c) {
      // Not written for a client or user deleted since they were checked: its exchange then finds nothing.
      try {
        await query(
          `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, scope, code_challenge,
             code_challenge_method, issued_at, expires_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
           WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = $2) AND EXISTS (SELECT 1 FROM users WHERE id = $3)`,
          [
            c.hash,
            c.clientId,
            c.userId,
            c.redirectUri,
            joinList(c.scope),
            c.codeChallenge,
            c.codeChallengeMethod,
            c.issuedAt,
            c.expiresAt,
          ],
        );
      } catch (error) {
        if (!isForeignKeyViolation(error)) throw error;
      }
    },

    async findAuthorizationCode(hash) {
      const { rows } = await query<AuthorizationCodeRow>(
        `SELECT c.client_id, c.user_id, c.redirect_uri, c.scope, c.code_challenge, c.code_challenge_method,
           c.issued_at, c.expires_at, c.used_at, c.grant_id, u.username, u.is_active
         FROM authorization_codes c JOIN users u ON u.id = c.user_id WHERE c.hash = $1`,
        [hash],
      );
      return rows[0] ? toAuthorizationCode(rows[0]) : null;
    },

    async redeemAuthorizationCode(redemption) {
      // A lost race leaves the code used (final): the second attempt sees it and answers reuse.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          return await inTransaction((tx) => attemptRedeem(tx, redemption));
        } catch (error) {
          if (!(error instanceof LostRace)) throw error;
        }
      }
      throw new Error('postgres: a code redemption lost twice to no visible change of its code');
    },
  };
}
