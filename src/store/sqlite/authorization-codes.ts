import type Database from 'better-sqlite3';
import type {
  AuthorizationCodeStore,
  RedeemAuthorizationCode,
  RedeemCodeResult,
} from '../../core/authorization-ports.js';
import { toAuthorizationCode, type AuthorizationCodeRow, type CodeStateRow } from '../authorization-rows.js';
import { joinList } from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { grantIssuer, grantRevoker } from './tokens.js';

/**
 * Authorization codes (RFC 6749 §4.1.2). The exchange is a hot write of the group commit, like issueTokens:
 * the batch's write lock makes "unused, so mark it used and write the grant" exact, and a second presentation
 * in the same batch sees the first one's mark.
 */
export function sqliteAuthorizationCodes(conn: SqliteConnection): AuthorizationCodeStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareCodeStatements> | undefined;
  const sql = () => (statements ??= prepareCodeStatements(db));
  const issue = grantIssuer(db);
  const revokeGrant = grantRevoker(db);

  const redeem = (r: RedeemAuthorizationCode): RedeemCodeResult => {
    const { grant, now } = r;
    const code = sql().codeState.get(r.codeHash) as CodeStateRow | undefined;
    const clientExists = sql().clientExists.get(grant.clientId) !== undefined;
    // The code goes with its client (ON DELETE CASCADE): a code missing because its client is gone is that.
    if (!code) return clientExists ? { outcome: 'not_found' } : { outcome: 'client_gone' };
    // Only the client and user the code was issued to get a grant from it (RFC 6749 §4.1.3).
    if (code.client_id !== grant.clientId || code.user_id !== grant.userId) return { outcome: 'not_found' };
    if (code.used_at !== null) {
      // RFC 6749 §4.1.2: a code used twice revokes what its first exchange issued, in this same transaction.
      if (code.grant_id !== null) revokeGrant(code.grant_id, now);
      return { outcome: 'reused', grantId: code.grant_id };
    }
    if (code.expires_at <= now) return { outcome: 'expired' };
    if (!clientExists) return { outcome: 'client_gone' };
    sql().useCode.run(now, grant.id, r.codeHash);
    const issued = issue({
      grant: { ...grant, grantType: 'authorization_code' },
      access: r.access,
      refresh: r.refresh,
    });
    // Cannot happen (the client was found under this write lock); throwing rolls the mark back.
    if (issued !== 'issued') throw new Error('sqlite: a code redemption lost its client under the write lock');
    return { outcome: 'redeemed' };
  };
  conn.registerWrites({ redeemCode: redeem });

  return {
    async createAuthorizationCode(c) {
      // Not written for a client or user deleted since they were checked: its exchange then finds nothing.
      await conn.commitDurably(
        () =>
          sql().insertCode.run(
            c.hash,
            c.clientId,
            c.userId,
            c.redirectUri,
            joinList(c.scope),
            c.codeChallenge,
            c.codeChallengeMethod,
            c.issuedAt,
            c.expiresAt,
            c.clientId,
            c.userId,
          ),
        { changesNoToken: true },
      );
    },
    async findAuthorizationCode(hash) {
      const row = conn.readInTurn(() => sql().codeByHash.get(hash)) as AuthorizationCodeRow | undefined;
      if (!row) return null;
      // As for a used refresh token: what the answer leads to (reuse) must not rest on a commit not yet durable.
      if (row.used_at !== null) await conn.waitDurable();
      return toAuthorizationCode(row);
    },
    redeemAuthorizationCode: (redemption) => conn.queueWrite('redeemCode', redemption),
  };
}

function prepareCodeStatements(db: Database.Database) {
  return {
    insertCode: db.prepare(`INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, scope,
        code_challenge, code_challenge_method, issued_at, expires_at)
      SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
      WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?) AND EXISTS (SELECT 1 FROM users WHERE id = ?)`),
    codeByHash: db.prepare(`SELECT c.client_id, c.user_id, c.redirect_uri, c.scope, c.code_challenge,
        c.code_challenge_method, c.issued_at, c.expires_at, c.used_at, c.grant_id, u.username, u.is_active
      FROM authorization_codes c JOIN users u ON u.id = c.user_id WHERE c.hash = ?`),
    codeState: db.prepare(
      'SELECT client_id, user_id, used_at, grant_id, expires_at FROM authorization_codes WHERE hash = ?',
    ),
    clientExists: db.prepare('SELECT 1 FROM clients WHERE client_id = ?'),
    useCode: db.prepare('UPDATE authorization_codes SET used_at = ?, grant_id = ? WHERE hash = ? AND used_at IS NULL'),
  };
}
