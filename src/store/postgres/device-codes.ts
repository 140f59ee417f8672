import type { DeviceCodeStore, RedeemDeviceCode } from '../../core/authorization-ports.js';
import { DEVICE_CODE_GRANT } from '../../core/types.js';
import { pollTooSoon, toDeviceCode, type DeviceCodeRow } from '../authorization-rows.js';
import { joinList } from '../rows.js';
import { isForeignKeyViolation, lockGrantParents } from './authorization-codes.js';
import type { PostgresConnection, Query } from './connection.js';
import { issueGrantWithTokens } from './tokens.js';

const DEVICE_COLUMNS = `hash, client_id, scope, status, user_id, issued_at, expires_at, interval_seconds,
  last_polled_ms`;

/**
 * Single use, in one transaction: only an approved, unexpired code of this client matches, and the grant is
 * the approver's, who must still be active. Of concurrent redemptions the first to lock the row wins; the
 * others wait for its commit and match nothing (READ COMMITTED re-checks the WHERE on the new row version).
 * Parents first: see lockGrantParents.
 */
async function redeem(tx: Query, r: RedeemDeviceCode): Promise<'redeemed' | 'not_approved' | 'client_gone'> {
  const { grant, now } = r;
  const missing = await lockGrantParents(tx, grant.clientId, grant.userId);
  if (missing === 'client') return 'client_gone';
  if (missing === 'user') return 'not_approved';
  const won = await tx(
    `UPDATE device_codes SET status = 'used', grant_id = $1
     WHERE hash = $2 AND client_id = $3 AND user_id = $4 AND status = 'approved' AND expires_at > $5
       AND EXISTS (SELECT 1 FROM users u WHERE u.id = device_codes.user_id AND u.is_active)`,
    [grant.id, r.hash, grant.clientId, grant.userId, now],
  );
  if (won.rowCount !== 1) return 'not_approved';
  const issued = await issueGrantWithTokens(tx, {
    grant: { ...grant, grantType: DEVICE_CODE_GRANT },
    access: r.access,
    refresh: r.refresh,
  });
  // Cannot happen (the client is held); throwing rolls the mark back.
  if (issued !== 'issued') throw new Error('postgres: a device code redemption lost its client while holding it');
  return 'redeemed';
}

export function postgresDeviceCodes({ query, inTransaction }: PostgresConnection): DeviceCodeStore {
  return {
    async createDeviceCode(c) {
      // A clash of user codes is told, not thrown: the caller draws another (RFC 8628 §6.1). Not written for a
      // client deleted since it was checked (a poll then finds nothing).
      let inserted: number | null;
      try {
        ({ rowCount: inserted } = await query(
          `INSERT INTO device_codes (hash, user_code_hash, client_id, scope, issued_at, expires_at, interval_seconds)
           SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = $3)
           ON CONFLICT (user_code_hash) DO NOTHING`,
          [c.hash, c.userCodeHash, c.clientId, joinList(c.scope), c.issuedAt, c.expiresAt, c.intervalSeconds],
        ));
      } catch (error) {
        if (isForeignKeyViolation(error)) return 'created';
        throw error;
      }
      if (inserted === 1) return 'created';
      const taken = await query('SELECT 1 FROM device_codes WHERE user_code_hash = $1', [c.userCodeHash]);
      return taken.rowCount === 1 ? 'user_code_taken' : 'created';
    },

    async findPendingDeviceCode(userCodeHash, now) {
      const { rows } = await query<DeviceCodeRow>(
        `SELECT ${DEVICE_COLUMNS} FROM device_codes
         WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2`,
        [userCodeHash, now],
      );
      return rows[0] ? { ...toDeviceCode(rows[0]), hash: rows[0].hash } : null;
    },

    async decideDeviceCode(hash, { approved, userId, now, scope }) {
      try {
        const { rowCount } = await query(
          `UPDATE device_codes SET status = $1, user_id = $2, scope = COALESCE($5, scope)
           WHERE hash = $3 AND status = 'pending' AND expires_at > $4`,
          [approved ? 'approved' : 'denied', userId, hash, now, scope === undefined ? null : joinList(scope)],
        );
        return rowCount === 1;
      } catch (error) {
        if (isForeignKeyViolation(error)) return false; // the deciding user was deleted meanwhile
        throw error;
      }
    },

    pollDeviceCode: (hash, clientId, nowMs) =>
      // The row is locked while the previous poll is read and this one recorded: concurrent polls queue, and
      // each is judged against the one before it (RFC 8628 §3.5).
      inTransaction(async (tx) => {
        const { rows } = await tx<DeviceCodeRow>(
          `SELECT ${DEVICE_COLUMNS} FROM device_codes WHERE hash = $1 AND client_id = $2 FOR UPDATE`,
          [hash, clientId],
        );
        const row = rows[0];
        if (!row) return null;
        const updated = await tx<{ interval_seconds: number }>(
          `UPDATE device_codes SET
             interval_seconds = CASE WHEN last_polled_ms IS NOT NULL AND $1 - last_polled_ms < interval_seconds * 1000
               THEN interval_seconds + 5 ELSE interval_seconds END,
             last_polled_ms = $1
           WHERE hash = $2 RETURNING interval_seconds`,
          [nowMs, hash],
        );
        const intervalSeconds = updated.rows[0]!.interval_seconds;
        return { record: { ...toDeviceCode(row), intervalSeconds }, tooSoon: pollTooSoon(row, nowMs) };
      }),

    redeemDeviceCode: (redemption) => inTransaction((tx) => redeem(tx, redemption)),
  };
}
