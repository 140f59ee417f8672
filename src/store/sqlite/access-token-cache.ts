import type Database from 'better-sqlite3';
import type { AccessTokenRecord } from '../../core/types.js';

/**
 * The access-token records this SQLite connection has read, reused for as long as nothing that could change
 * them has been committed. Bearer validation and introspection read the same few tokens over and over (every
 * API call of an integrator carries its token), and the three-table read is the largest cost of a validation
 * after the socket write (docs/benchmarks.md).
 *
 * Never stale, unlike a time-bounded cache:
 * - Another connection's commit (another process: the CLI, a cluster worker, an import) changes
 *   `PRAGMA data_version` (https://sqlite.org/pragma.html#pragma_data_version): any change empties the cache.
 *   It is read at the first lookup of each turn of the event loop, not at every lookup: reading it opens a
 *   read transaction (WAL locks, system calls), most of what the cache saves. The requests answered in one
 *   turn all arrived before it began, so each sees every commit made before it arrived. A revocation through
 *   the CLI takes effect on the very next request.
 * - This connection's own writes call `forgetGrant` (a rotation or a revocation touches one grant) or `clear`
 *   (everything else: user, client and cleanup writes) right after they commit, in the same synchronous step,
 *   so no lookup can run between the commit and the invalidation. Issuing tokens and audit rows change no
 *   existing token and leave the cache as it is.
 * - Only found tokens are kept (a flood of unknown tokens cannot fill it), at most `maxEntries`, the oldest
 *   going first. Expiry is not cached away: the record carries `expiresAt`, which the core checks on every
 *   request (RFC 6750 §3.1 invalid_token).
 */
export interface AccessTokenCache {
  /** The record for `hash`, from the cache or from `load` (which reads the database). */
  get(hash: Buffer, load: () => AccessTokenRecord | null): AccessTokenRecord | null;
  /** After a committed write that may have changed tokens of this grant. */
  forgetGrant(grantId: string): void;
  /** After any other committed write. */
  clear(): void;
}

export function accessTokenCache(db: Database.Database, maxEntries: number): AccessTokenCache {
  if (maxEntries <= 0) return { get: (_hash, load) => load(), forgetGrant() {}, clear() {} };
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let seenVersion = dataVersion.get();
  let checkedThisTurn = false;
  const nextTurn = () => {
    checkedThisTurn = false;
  };
  const entries = new Map<string, AccessTokenRecord>();
  const keysByGrant = new Map<string, string[]>();

  const clear = () => {
    entries.clear();
    keysByGrant.clear();
  };
  const unlink = (key: string, grantId: string) => {
    const keys = keysByGrant.get(grantId);
    if (!keys) return;
    const at = keys.indexOf(key);
    if (at >= 0) keys.splice(at, 1);
    if (keys.length === 0) keysByGrant.delete(grantId);
  };

  return {
    get(hash, load) {
      if (!checkedThisTurn) {
        const version = dataVersion.get(); // if this throws (SQLITE_BUSY…), the next lookup checks again
        checkedThisTurn = true;
        setImmediate(nextTurn);
        if (version !== seenVersion) {
          seenVersion = version;
          clear();
        }
      }
      const key = hash.toString('latin1');
      const hit = entries.get(key);
      if (hit) return hit;
      const record = load();
      if (!record) return null;
      if (entries.size >= maxEntries) {
        const [oldestKey, oldest] = entries.entries().next().value!;
        entries.delete(oldestKey);
        unlink(oldestKey, oldest.grantId);
      }
      const frozen = Object.freeze({ ...record, scope: Object.freeze([...record.scope]) as string[] });
      entries.set(key, frozen);
      const keys = keysByGrant.get(record.grantId);
      if (keys) keys.push(key);
      else keysByGrant.set(record.grantId, [key]);
      return frozen;
    },
    forgetGrant(grantId) {
      const keys = keysByGrant.get(grantId);
      if (!keys) return;
      for (const key of keys) entries.delete(key);
      keysByGrant.delete(grantId);
    },
    clear,
  };
}
