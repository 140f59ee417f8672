import type { AuditEventName } from './audit-events.js';
import type { EpochSeconds, User } from './types.js';

/* The admin API's side of the store ports (core/ports.ts re-exports them): listings, activity, user changes. */

/** How many events of each name fell in each bucket of `bucketSeconds` (bucket = its start, a multiple). */
export interface AuditActivityQuery {
  since: EpochSeconds;
  bucketSeconds: number;
  events: readonly AuditEventName[];
}

export interface AuditActivityRow {
  bucket: EpochSeconds;
  event: string;
  count: number;
}

/**
 * A page of a listing in a stable order (clients by client_id, users by username, byte-wise): at most `limit`
 * after `after` (keyset paging), those whose id or name contains `search` case-insensitively when given.
 */
export interface ListQuery {
  search?: string;
  after?: string;
  limit: number;
}

/** The fields `updateUser` changes; a field left out keeps its value. */
export interface UserChanges {
  username?: string;
  /** false: as setUserActive(false) — revokes, ends and cancels in the same transaction. */
  isActive?: boolean;
  isAdmin?: boolean;
}

/**
 * - `updated`: every change applied, in one transaction, and the version bumped once; when the admin flag was
 *   taken, `revokedGrants` names the user's grants revoked with it (those whose scope held an admin scope);
 * - `version_mismatch`: `ifVersion` was given and the stored version differs; nothing changed;
 * - `exists`: the new username is taken; nothing changed.
 */
export type UserUpdate =
  | { status: 'updated'; user: User; revokedGrants?: string[] }
  | { status: 'not_found' | 'version_mismatch' | 'exists' };
