import type Database from 'better-sqlite3';
import type { AuditEvent, IssueTokens, RotateRefreshToken, RotateResult, SealedErasure } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import { joinList } from '../rows.js';

/**
 * The SQLite store's hot write intentions, as plain synchronous functions of a connection, named so a batch
 * of them is data (`WriteOp`). They run inside the group-commit batch transaction (see group-commit.ts).
 * Statements are prepared on first use (the schema must be migrated by then).
 */
export function writeOps(db: Database.Database) {
  let statements: ReturnType<typeof prepareWrites> | undefined;
  const st = () => (statements ??= prepareWrites(db));

  const revokeGrant = (grantId: string, now: EpochSeconds): void => {
    const s = st();
    s.revokeGrant.run(now, grantId);
    s.revokeGrantAccess.run(now, grantId);
    s.revokeGrantRefresh.run(now, grantId);
  };

  return {
    issueTokens(t: IssueTokens): 'issued' | 'client_gone' {
      const s = st();
      // Only for a client that still exists: the write lock makes the check exact.
      const grant = s.insertGrant.run(t.grant.id, t.grant.clientId, t.grant.userId, joinList(t.grant.scope), t.grant.createdAt, t.grant.clientId);
      if (grant.changes === 0) return 'client_gone';
      s.insertAccess.run(t.access.hash, t.grant.id, joinList(t.access.scope), t.access.issuedAt, t.access.expiresAt);
      s.insertRefresh.run(t.refresh.hash, t.grant.id, t.access.hash, joinList(t.refresh.scope), t.refresh.issuedAt, t.refresh.expiresAt, 0);
      return 'issued';
    },

    rotate(r: RotateRefreshToken): RotateResult {
      const s = st();
      // The single-use guarantee: one conditional UPDATE. Only a live, unused token in a live grant matches.
      const won = s.useRefresh.get(r.now, r.refresh.hash, r.successorResponse ?? null, r.presentedHash, r.grantId) as
        | { access_token_hash: Uint8Array | null }
        | undefined;
      if (won) {
        if (won.access_token_hash) s.revokeAccess.run(r.now, won.access_token_hash);
        s.insertAccess.run(r.access.hash, r.grantId, joinList(r.access.scope), r.access.issuedAt, r.access.expiresAt);
        s.insertRefresh.run(r.refresh.hash, r.grantId, r.access.hash, joinList(r.refresh.scope), r.refresh.issuedAt, r.refresh.expiresAt, 1);
        return 'rotated';
      }
      const row = s.refreshState.get(r.presentedHash, r.grantId) as { used_at: number | null; revoked_at: number | null } | undefined;
      if (!row) return 'not_found';
      if (row.used_at !== null) return 'already_used';
      return 'revoked';
    },

    revokeGrant,

    revokeUserGrants(userId: number, now: EpochSeconds): void {
      for (const { id } of st().liveGrantsOfUser.all(userId) as { id: string }[]) revokeGrant(id, now);
    },

    /** See Store.deleteExpired; `before` is now − retention, `auditBefore` null to keep audit events. */
    deleteExpired(now: EpochSeconds, before: EpochSeconds, limit: number, auditBefore: EpochSeconds | null): number {
      const s = st();
      s.deleteLiveAccessOfRevokedGrants.run(before, limit);
      s.deleteLiveRefreshOfRevokedGrants.run(before, limit);
      return (
        s.deleteRevokedGrants.run(before, limit).changes +
        s.deleteExpiredAccess.run(now, limit).changes +
        s.deleteDeadRefresh.run(before, before, before, limit).changes +
        (auditBefore === null ? 0 : s.deleteOldAudit.run(auditBefore, limit).changes) +
        s.deleteOldLockouts.run(before, limit).changes
      );
    },

    /**
     * See Store.eraseSealedSuccessors; `before` is now − grace. The batch's end is the `used_at` of the
     * (limit+1)-th used token from `from` (an index-only walk); the update then reads only the rows before it.
     * When more than `limit` tokens were used in the second `from`, the batch is that whole second.
     */
    eraseSealed(from: EpochSeconds, before: EpochSeconds, limit: number): SealedErasure {
      const s = st();
      const boundary = s.usedAtBoundary.get(from, before, limit) as { used_at: number } | undefined;
      const upTo = boundary === undefined ? before : Math.max(boundary.used_at, from + 1);
      const erased = s.eraseSealed.run(from, Math.min(upTo, before)).changes;
      return { erased, next: upTo >= before ? null : upTo };
    },

    recordAudit(events: readonly AuditEvent[]): void {
      const insert = st().insertAudit;
      for (const e of events) insert.run(e.at, e.event, e.clientId, e.userId, e.username, e.grantId, e.ip, e.detail);
    },
  };
}

export type WriteOps = ReturnType<typeof writeOps>;

/** A write intention by name, with its arguments. */
export type WriteOp =
  | { op: 'issueTokens'; args: [IssueTokens] }
  | { op: 'rotate'; args: [RotateRefreshToken] }
  | { op: 'revokeGrant'; args: [string, EpochSeconds] }
  | { op: 'recordAudit'; args: [readonly AuditEvent[]] }
  | { op: 'deleteExpired'; args: [EpochSeconds, EpochSeconds, number, EpochSeconds | null] }
  | { op: 'eraseSealed'; args: [EpochSeconds, EpochSeconds, number] };

export function runOp(ops: WriteOps, write: WriteOp): unknown {
  switch (write.op) {
    case 'issueTokens':
      return ops.issueTokens(...write.args);
    case 'rotate':
      return ops.rotate(...write.args);
    case 'revokeGrant':
      return ops.revokeGrant(...write.args);
    case 'recordAudit':
      return ops.recordAudit(...write.args);
    case 'deleteExpired':
      return ops.deleteExpired(...write.args);
    case 'eraseSealed':
      return ops.eraseSealed(...write.args);
  }
}

function prepareWrites(db: Database.Database) {
  return {
    insertGrant: db.prepare(`INSERT INTO grants (id, client_id, user_id, scope, created_at)
      SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?)`),
    insertAccess: db.prepare(`INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
      VALUES (?, ?, ?, ?, ?)`),
    insertRefresh: db.prepare(`INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at, from_rotation)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertAudit: db.prepare(`INSERT INTO audit_events (at, event, client_id, user_id, username, grant_id, ip, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    useRefresh: db.prepare(`UPDATE refresh_tokens SET used_at = ?, successor_hash = ?, successor_response = ?
      WHERE token_hash = ? AND grant_id = ? AND used_at IS NULL AND revoked_at IS NULL
        AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id AND g.revoked_at IS NULL)
      RETURNING access_token_hash`),
    refreshState: db.prepare(`SELECT r.used_at, coalesce(r.revoked_at, g.revoked_at) AS revoked_at
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = ? AND r.grant_id = ?`),
    revokeAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL'),
    revokeGrant: db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    // The grant's live tokens, through the partial indexes that hold only those (migration 4). Its used and
    // revoked tokens are dead already, and lookups see the grant's revocation through the join.
    revokeGrantAccess: db.prepare(`UPDATE access_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL`),
    revokeGrantRefresh: db.prepare(`UPDATE refresh_tokens SET revoked_at = ?
      WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL`),
    liveGrantsOfUser: db.prepare('SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL'),
    // Each DELETE walks one partial index, at most `limit` rows: short transactions, no long write lock.
    // Tokens have no foreign key to grants (migration 4): a revoked grant takes along any token still live at
    // row level (revokeGrant leaves none; this is the backstop), the same `limit` grants in the same order;
    // its dead tokens go by their own criteria below.
    deleteLiveAccessOfRevokedGrants: db.prepare(`DELETE FROM access_tokens WHERE revoked_at IS NULL AND grant_id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteLiveRefreshOfRevokedGrants: db.prepare(`DELETE FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteRevokedGrants: db.prepare(`DELETE FROM grants WHERE id IN
      (SELECT id FROM grants WHERE revoked_at IS NOT NULL AND revoked_at < ? LIMIT ?)`),
    deleteExpiredAccess: db.prepare(`DELETE FROM access_tokens WHERE token_hash IN
      (SELECT token_hash FROM access_tokens WHERE expires_at < ? LIMIT ?)`),
    deleteDeadRefresh: db.prepare(`DELETE FROM refresh_tokens WHERE token_hash IN
      (SELECT token_hash FROM refresh_tokens WHERE used_at < ?
       UNION SELECT token_hash FROM refresh_tokens WHERE revoked_at < ?
       UNION SELECT token_hash FROM refresh_tokens WHERE expires_at < ? LIMIT ?)`),
    // Sealed successors past the grace window (eraseSealed): the used_at index, a bounded range of it.
    usedAtBoundary: db.prepare('SELECT used_at FROM refresh_tokens WHERE used_at >= ? AND used_at < ? ORDER BY used_at LIMIT 1 OFFSET ?'),
    eraseSealed: db.prepare(`UPDATE refresh_tokens SET successor_response = NULL
      WHERE used_at >= ? AND used_at < ? AND successor_response IS NOT NULL`),
    deleteOldAudit: db.prepare('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)'),
    // Lockouts ended (or cleared) more than the retention ago: the audit trail keeps their story.
    deleteOldLockouts: db.prepare('DELETE FROM lockouts WHERE id IN (SELECT id FROM lockouts WHERE locked_until < ? LIMIT ?)'),
  };
}
