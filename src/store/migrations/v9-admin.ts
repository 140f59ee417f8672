import type { Migration } from './index.js';

/**
 * Migration 9: what the admin API and the console keep. Kept in its own file, as v8.
 *
 * - users.is_admin: the user may hold the built-in admin scopes (core/admin-scopes.ts); every existing user is
 *   not an admin, so an upgrade gives no one new powers.
 * - users.version, clients.version: bumped by every administrative change, the admin API's ETag (RFC 9110
 *   §13.1.1 If-Match); a login's password-hash upgrade leaves it, so a sign-in does not fail an edit in flight.
 * - audit_events_user_at: the audit log filtered by user. On PostgreSQL the (at) index becomes (at, id), the
 *   audit log's order and keyset cursor (SQLite's (at) index holds the rowid, its id, already).
 *
 * The listings need no new index: clients page by their primary key, users by the UNIQUE username (COLLATE
 * "C" on PostgreSQL, BINARY on SQLite: both byte-wise).
 */
export const v9Admin: Migration = {
  version: 9,
  name: 'admin flag, versions of users and clients, audit events by user',
  sqlite: `
    ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1));
    ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE clients ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX audit_events_user_at ON audit_events (user_id, at);
  `,
  postgres: `
    ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false,
      ADD COLUMN version integer NOT NULL DEFAULT 1;
    ALTER TABLE clients ADD COLUMN version integer NOT NULL DEFAULT 1;
    CREATE INDEX audit_events_user_at ON audit_events (user_id, at);
    CREATE INDEX audit_events_at_id ON audit_events (at, id);
    DROP INDEX audit_events_at;
  `,
};
