import { createHmac, randomBytes } from 'node:crypto';
import { temporarilyUnavailable } from '../core/errors.js';
import type { PasswordHasher } from '../core/ports.js';

/**
 * At most `maxConcurrent` hashes at once, at most `maxQueue` waiting; beyond that the call fails at once
 * with temporarily_unavailable (503, Retry-After). argon2 runs on libuv's thread pool: without a bound, a
 * flood of password grants would queue there without limit and everything else needing the pool would
 * wait behind it. Refreshes and token validation never hash (see cachedSecretVerifier), so they keep
 * their latency during such a flood.
 */
export function boundedHasher(
  inner: PasswordHasher,
  options: { maxConcurrent: number; maxQueue: number },
): PasswordHasher {
  let running = 0;
  const waiting: (() => void)[] = [];

  async function slot<T>(work: () => Promise<T>): Promise<T> {
    if (running >= options.maxConcurrent) {
      if (waiting.length >= options.maxQueue) throw temporarilyUnavailable('password hashing queue full');
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  }

  return {
    hash: (password) => slot(() => inner.hash(password)),
    verify: (storedHash, password) => slot(() => inner.verify(storedHash, password)),
  };
}

/**
 * Remembers, in this process's memory only, which (stored hash, presented secret) pairs verified, as an
 * HMAC under a random per-process key: a client whose secret is stored with argon2id (a secret a person
 * chose) pays the slow hash once per `ttlMs`, not on every refresh. Nothing is written anywhere; a new
 * secret (rotate-secret) has a new stored hash, so old entries never match it. Failures are not cached.
 */
export function cachedSecretVerifier(
  inner: PasswordHasher,
  options: { ttlMs?: number; maxEntries?: number } = {},
): PasswordHasher {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const key = randomBytes(32);
  const verified = new Map<string, number>();
  const tag = (storedHash: string, secret: string) =>
    createHmac('sha256', key).update(storedHash).update('\0').update(secret).digest('base64');

  return {
    hash: (secret) => inner.hash(secret),
    knownToVerify(storedHash, secret) {
      const until = verified.get(tag(storedHash, secret));
      return until !== undefined && until > Date.now();
    },
    async verify(storedHash, secret) {
      if (storedHash === null) return inner.verify(storedHash, secret);
      const id = tag(storedHash, secret);
      const until = verified.get(id);
      if (until !== undefined && until > Date.now()) return { ok: true, needsRehash: false };
      const result = await inner.verify(storedHash, secret);
      if (result.ok) {
        verified.delete(id);
        verified.set(id, Date.now() + ttlMs);
        if (verified.size > maxEntries) verified.delete(verified.keys().next().value!);
      }
      return result;
    },
  };
}
