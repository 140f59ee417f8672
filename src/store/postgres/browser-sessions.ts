import type { BrowserSessionStore, ConsentStore } from '../../core/authorization-ports.js';
import type { EpochSeconds } from '../../core/types.js';
import {
  consentScope,
  toBrowserSession,
  toConsent,
  toListedSession,
  type BrowserSessionRow,
  type ConsentRow,
} from '../authorization-rows.js';
import { joinList, splitList } from '../rows.js';
import { isForeignKeyViolation } from './authorization-codes.js';
import type { PostgresConnection, Query } from './connection.js';

/**
 * Ends every live browser session of a user (sign-out everywhere, and users.ts when a user is disabled, inside
 * its transaction); returns how many.
 */
export async function endSessionsOf(query: Query, userId: number, now: EpochSeconds): Promise<number> {
  const { rowCount } = await query(
    'UPDATE browser_sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1',
    [now, userId],
  );
  return rowCount ?? 0;
}

/**
 * The union of the stored and the new scopes in the upsert itself (ON CONFLICT locks the row, so concurrent
 * consents each add theirs), unique and sorted as consentScope sorts (the "C" collation).
 */
const RECORD_CONSENT = `
  INSERT INTO consents (user_id, client_id, scope, created_at, updated_at)
  SELECT $1, $2, $3, $4, $4
  WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = $2) AND EXISTS (SELECT 1 FROM users WHERE id = $1)
  ON CONFLICT (user_id, client_id) DO UPDATE SET updated_at = excluded.updated_at,
    scope = (SELECT string_agg(DISTINCT s COLLATE "C", ' ' ORDER BY s COLLATE "C")
      FROM unnest(string_to_array(consents.scope || ' ' || excluded.scope, ' ')) AS s WHERE s <> '')`;

export function postgresBrowserSessions({ query }: PostgresConnection): BrowserSessionStore & ConsentStore {
  /** Runs a write that names a client or user; a foreign key violation (deleted meanwhile) writes nothing. */
  const unlessParentGone = async (text: string, values: unknown[]): Promise<void> => {
    try {
      await query(text, values);
    } catch (error) {
      if (!isForeignKeyViolation(error)) throw error;
    }
  };

  return {
    async createBrowserSession(s) {
      // Not written for a user deleted since sign-in checked the password: the cookie then finds nothing.
      await unlessParentGone(
        `INSERT INTO browser_sessions (hash, user_id, created_at, expires_at)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)`,
        [s.hash, s.userId, s.createdAt, s.expiresAt],
      );
    },

    async findBrowserSession(hash, now) {
      const { rows } = await query<BrowserSessionRow>(
        `SELECT s.user_id, u.username, s.created_at, s.expires_at
         FROM browser_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND u.is_active`,
        [hash, now],
      );
      return rows[0] ? toBrowserSession(rows[0]) : null;
    },

    async endBrowserSession(hash, now) {
      await query('UPDATE browser_sessions SET ended_at = $1 WHERE hash = $2 AND ended_at IS NULL', [now, hash]);
    },

    async listUserBrowserSessions(userId, now) {
      const { rows } = await query<{ hash: Buffer; created_at: number; expires_at: number }>(
        `SELECT hash, created_at, expires_at FROM browser_sessions
         WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at, hash`,
        [userId, now],
      );
      return rows.map(toListedSession);
    },

    endUserBrowserSessions: (userId, now) => endSessionsOf(query, userId, now),

    async findConsent(userId, clientId) {
      const { rows } = await query<{ scope: string }>(
        'SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2',
        [userId, clientId],
      );
      return rows[0] ? splitList(rows[0].scope) : null;
    },

    async recordConsent(userId, clientId, scope, now) {
      // Not written for a client or user deleted meanwhile (the next authorization asks again).
      await unlessParentGone(RECORD_CONSENT, [userId, clientId, joinList(consentScope(scope)), now]);
    },

    async listUserConsents(userId) {
      const { rows } = await query<ConsentRow>(
        'SELECT client_id, scope, created_at, updated_at FROM consents WHERE user_id = $1 ORDER BY client_id',
        [userId],
      );
      return rows.map(toConsent);
    },

    async revokeUserConsents(userId, { clientId }) {
      const { rows } = await query<{ client_id: string }>(
        'DELETE FROM consents WHERE user_id = $1 AND ($2::text IS NULL OR client_id = $2) RETURNING client_id',
        [userId, clientId ?? null],
      );
      return rows.map((r) => r.client_id).sort();
    },
  };
}
