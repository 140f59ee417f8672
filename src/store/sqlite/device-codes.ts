import type Database from 'better-sqlite3';
import type { DeviceCodeStore, DevicePoll, RedeemDeviceCode } from '../../core/authorization-ports.js';
import { DEVICE_CODE_GRANT } from '../../core/types.js';
import { pollTooSoon, toDeviceCode, type DeviceCodeRow } from '../authorization-rows.js';
import { joinList } from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { grantIssuer } from './tokens.js';

/**
 * Device authorization requests (RFC 8628). Polls and redemptions come from devices every few seconds: hot
 * writes of the group commit. The approval page's writes are ordinary transactions.
 */
export function sqliteDeviceCodes(conn: SqliteConnection): DeviceCodeStore {
  const { db } = conn;
  let statements: ReturnType<typeof prepareDeviceStatements> | undefined;
  const sql = () => (statements ??= prepareDeviceStatements(db));
  const issue = grantIssuer(db);

  const poll = (hash: Buffer, clientId: string, nowMs: number): DevicePoll | null => {
    const row = sql().deviceByHash.get(hash, clientId) as DeviceCodeRow | undefined;
    if (!row) return null;
    const tooSoon = pollTooSoon(row, nowMs);
    // RFC 8628 §3.5: slow_down adds 5 s to the interval, for this poll's answer and every later one.
    const updated = sql().recordPoll.get(nowMs, nowMs, hash) as { interval_seconds: number };
    return { record: { ...toDeviceCode(row), intervalSeconds: updated.interval_seconds }, tooSoon };
  };

  const redeem = (r: RedeemDeviceCode): 'redeemed' | 'not_approved' | 'client_gone' => {
    const { grant, now } = r;
    if (sql().clientExists.get(grant.clientId) === undefined) return 'client_gone';
    // Single use: only an approved, unexpired code of this client matches, and the grant is the approver's, who
    // must still be active (disabled since the approval: no grant).
    const won = sql().useDevice.run(grant.id, r.hash, grant.clientId, grant.userId, now);
    if (won.changes === 0) return 'not_approved';
    const issued = issue({ grant: { ...grant, grantType: DEVICE_CODE_GRANT }, access: r.access, refresh: r.refresh });
    // Cannot happen (the client was found under this write lock); throwing rolls the mark back.
    if (issued !== 'issued') throw new Error('sqlite: a device code redemption lost its client under the write lock');
    return 'redeemed';
  };
  conn.registerWrites({ pollDevice: poll, redeemDevice: redeem });

  return {
    async createDeviceCode(c) {
      // A clash of user codes is told, not thrown: the caller draws another (RFC 8628 §6.1).
      const inserted = await conn.commitDurably(
        () =>
          sql().insertDevice.run(
            c.hash,
            c.userCodeHash,
            c.clientId,
            joinList(c.scope),
            c.issuedAt,
            c.expiresAt,
            c.intervalSeconds,
            c.clientId,
          ),
        { changesNoToken: true },
      );
      return inserted.changes === 1 || !sql().userCodeTaken.get(c.userCodeHash) ? 'created' : 'user_code_taken';
    },
    async findPendingDeviceCode(userCodeHash, now) {
      const row = conn.readInTurn(() => sql().pendingByUserCode.get(userCodeHash, now)) as DeviceCodeRow | undefined;
      return row ? { ...toDeviceCode(row), hash: Buffer.from(row.hash) } : null;
    },
    async decideDeviceCode(hash, { approved, userId, now, scope }) {
      const narrowed = scope === undefined ? null : joinList(scope);
      const decided = await conn.commitDurably(
        () => sql().decide.run(approved ? 'approved' : 'denied', userId, narrowed, hash, now, userId),
        { changesNoToken: true },
      );
      return decided.changes === 1;
    },
    pollDeviceCode: (hash, clientId, nowMs) => conn.queueWrite('pollDevice', hash, clientId, nowMs),
    redeemDeviceCode: (redemption) => conn.queueWrite('redeemDevice', redemption),
  };
}

const DEVICE_COLUMNS = `hash, client_id, scope, status, user_id, issued_at, expires_at, interval_seconds,
  last_polled_ms`;

function prepareDeviceStatements(db: Database.Database) {
  return {
    // Not written for a client deleted since it was checked (a poll then finds nothing). Only a clash of user
    // codes is ignored here; any other conflict (the device code's own key) still throws.
    insertDevice: db.prepare(`INSERT INTO device_codes (hash, user_code_hash, client_id, scope, issued_at,
        expires_at, interval_seconds)
      SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?)
      ON CONFLICT (user_code_hash) DO NOTHING`),
    userCodeTaken: db.prepare('SELECT 1 FROM device_codes WHERE user_code_hash = ?'),
    pendingByUserCode: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM device_codes
      WHERE user_code_hash = ? AND status = 'pending' AND expires_at > ?`),
    decide: db.prepare(`UPDATE device_codes SET status = ?, user_id = ?, scope = COALESCE(?, scope)
      WHERE hash = ? AND status = 'pending' AND expires_at > ? AND EXISTS (SELECT 1 FROM users WHERE id = ?)`),
    deviceByHash: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM device_codes WHERE hash = ? AND client_id = ?`),
    recordPoll: db.prepare(`UPDATE device_codes SET
        interval_seconds = CASE WHEN last_polled_ms IS NOT NULL AND ? - last_polled_ms < interval_seconds * 1000
          THEN interval_seconds + 5 ELSE interval_seconds END,
        last_polled_ms = ?
      WHERE hash = ? RETURNING interval_seconds`),
    clientExists: db.prepare('SELECT 1 FROM clients WHERE client_id = ?'),
    useDevice: db.prepare(`UPDATE device_codes SET status = 'used', grant_id = ?
      WHERE hash = ? AND client_id = ? AND user_id = ? AND status = 'approved' AND expires_at > ?
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = device_codes.user_id AND u.is_active = 1)`),
  };
}
