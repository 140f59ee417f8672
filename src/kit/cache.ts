import { createHash } from 'node:crypto';
import type { BearerValidator } from '../core/bearer.js';
import { OAuthError } from '../core/errors.js';
import type { Principal } from '../core/types.js';

export interface CacheOptions {
  /**
   * The staleness bound, in milliseconds: a token revoked on the server stops being accepted at most this
   * long afterwards. Default 5000. 0 disables the cache.
   */
  maxStalenessMs?: number;
  /** Entries kept at most (least recently stored evicted first). Default 10 000. */
  maxEntries?: number;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

interface Entry {
  expiresAtMs: number;
  result: { ok: true; principal: Principal } | { ok: false; error: OAuthError };
}

/**
 * Caches the answers of a verifier for at most `maxStalenessMs`, counted from when the lookup *started*:
 * a lookup that read the store before a revocation and finished after it still expires within the bound
 * of the revocation. Valid answers are also capped at the token's own expiry. Invalid-token answers are
 * cached too (a flood of junk tokens costs one lookup each per bound); infrastructure failures are not.
 * Keys are SHA-256 digests of the tokens, not the tokens.
 */
export function cachedVerifier(inner: BearerValidator, options: CacheOptions = {}): BearerValidator {
  const ttl = options.maxStalenessMs ?? 5000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  if (ttl <= 0) return inner;
  const entries = new Map<string, Entry>();

  const store = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  return {
    async validate(token) {
      const key = createHash('sha256').update(token).digest('base64');
      const cached = entries.get(key);
      const startedMs = now();
      if (cached && cached.expiresAtMs > startedMs) {
        if (cached.result.ok) {
          if (cached.result.principal.expiresAt * 1000 > startedMs) return cached.result.principal;
        } else {
          throw cached.result.error;
        }
      }
      try {
        const principal = await inner.validate(token);
        store(key, {
          expiresAtMs: Math.min(startedMs + ttl, principal.expiresAt * 1000),
          result: { ok: true, principal },
        });
        return principal;
      } catch (error) {
        if (error instanceof OAuthError && error.code === 'invalid_token') {
          store(key, { expiresAtMs: startedMs + ttl, result: { ok: false, error } });
        }
        throw error;
      }
    },
  };
}
