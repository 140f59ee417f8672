import argon2 from 'argon2';
import { checkHashBounds } from '../core/hash-bounds.js';
import type { PasswordHasher } from '../core/ports.js';

/**
 * argon2id parameters. The default is one of the equivalent profiles of OWASP's Password Storage Cheat Sheet
 * (m = 7 MiB, t = 5, p = 1: the same defence as its m = 19 MiB, t = 2, trading memory for passes). node-argon2
 * hashes on libuv's thread pool, off the event loop, and glibc keeps each pool thread's last block in that
 * thread's malloc arena, so the smaller block is what keeps one process within its memory target
 * (docs/benchmarks.md, *Memory (RSS)*). Hashes made with other parameters still verify and are rehashed at the next
 * successful login (`needsRehash`).
 */
export interface Argon2Parameters {
  memoryCostKiB: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Parameters = { memoryCostKiB: 7_168, timeCost: 5, parallelism: 1 };

/** OWASP's first profile (m = 19 MiB, t = 2): hashes made with it verify and are rehashed on login. */
export const OWASP_ARGON2ID_19MIB: Argon2Parameters = { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 };

export function createArgon2Hasher(parameters: Argon2Parameters = OWASP_ARGON2ID): PasswordHasher {
  const options = {
    type: argon2.argon2id,
    memoryCost: parameters.memoryCostKiB,
    timeCost: parameters.timeCost,
    parallelism: parameters.parallelism,
  } as const;
  // Verified when there is no usable hash (unknown user, unusable password), so that such a login costs
  // the same as a wrong password: no timing oracle on which usernames exist.
  // Made at once, so the first unknown-user login does not pay an extra hash (a timing difference).
  const dummyHash = argon2.hash('oauthd-dummy-password', options);
  dummyHash.catch(() => {});
  const dummy = (): Promise<string> => dummyHash;

  return {
    hash: (password) => argon2.hash(password, options),

    async verify(storedHash, password) {
      // An argon2 hash whose cost is past core/hash-bounds.ts's bounds (written into the database by
      // hand, say) is never computed: it does not match, at the cost of the dummy like a missing hash.
      if (storedHash === null || !storedHash.startsWith('$argon2') || !checkHashBounds(storedHash).within) {
        await argon2.verify(await dummy(), password).catch(() => false);
        return { ok: false, needsRehash: false };
      }
      let ok: boolean;
      try {
        ok = await argon2.verify(storedHash, password);
      } catch {
        // A corrupt stored hash never matches; verify the dummy so the time stays the same.
        await argon2.verify(await dummy(), password).catch(() => false);
        return { ok: false, needsRehash: false };
      }
      return { ok, needsRehash: ok && argon2.needsRehash(storedHash, options) };
    },
  };
}
