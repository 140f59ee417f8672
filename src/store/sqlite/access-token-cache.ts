import type Database from 'better-sqlite3';
import type { AccessTokenRecord } from '../../core/types.js';

/**
 * The access-token records this SQLite connection has read, reused for as long as nothing that could change
 * them has been committed: bearer validation and introspection read the same few tokens over and over. Never
 * stale, unlike a time-bounded cache:
 * - another connection's commit changes `PRAGMA data_version`, read at the first lookup of each event-loop turn
 *   (at every lookup it would cost most of what the cache saves); any change empties the cache;
 * - this connection's writes call `forgetGrant` or `clear` in the same synchronous step as their commit;
 * - only found tokens are kept, at most `maxEntries`, oldest first; expiry is checked by the core on every
 *   request from the record's `expiresAt`.
 * docs/design-notes.md, *Access-token cache, SQLite only*.
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
