// RFC 6819 §5.1.4.1.3 (credentials at rest) and RFC 9106 (Argon2); OWASP Password Storage Cheat Sheet.
import { describe, expect, it } from 'vitest';
import { createArgon2Hasher, OWASP_ARGON2ID, OWASP_ARGON2ID_19MIB } from './argon2-hasher.js';

/** The parameters of a PHC argon2id string, whatever order the library writes them in. */
function phcParameters(hash: string): Record<string, number> {
  const match = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash);
  if (!match) throw new Error(`not an argon2id PHC string: ${hash}`);
  return Object.fromEntries(match[1]!.split(',').map((kv) => [kv[0]!, Number(kv.slice(2))]));
}

const small = { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 };
const other = { memoryCostKiB: 2048, timeCost: 1, parallelism: 1 };

describe('createArgon2Hasher', () => {
  it('produces an argon2id PHC string with the given parameters', async () => {
    const hash = await createArgon2Hasher(small).hash('pw');
    expect(hash.startsWith('$argon2id$v=19$')).toBe(true);
    expect(phcParameters(hash)).toEqual({ m: 1024, t: 1, p: 1 });
    const hash2 = await createArgon2Hasher({ memoryCostKiB: 2048, timeCost: 3, parallelism: 2 }).hash('pw');
    expect(phcParameters(hash2)).toEqual({ m: 2048, t: 3, p: 2 });
  });

  it('salts each hash, so the same password hashes differently', async () => {
    const hasher = createArgon2Hasher(small);
    expect(await hasher.hash('pw')).not.toBe(await hasher.hash('pw'));
  });

  it('does not include the password in the hash', async () => {
    const hash = await createArgon2Hasher(small).hash('a-very-recognisable-password');
    expect(hash).not.toContain('a-very-recognisable-password');
  });

  it('uses the OWASP-equivalent parameters m=7168, t=5, p=1 by default', async () => {
    expect(OWASP_ARGON2ID).toEqual({ memoryCostKiB: 7_168, timeCost: 5, parallelism: 1 });
    const hash = await createArgon2Hasher().hash('pw');
    expect(hash.startsWith('$argon2id$v=19$')).toBe(true);
    expect(phcParameters(hash)).toEqual({ m: 7168, t: 5, p: 1 });
  });

  it('verifies a hash made with the former default (m=19456, t=2) and asks for it to be rehashed', async () => {
    const hash = await createArgon2Hasher(OWASP_ARGON2ID_19MIB).hash('pw');
    expect(phcParameters(hash)).toEqual({ m: 19456, t: 2, p: 1 });
    await expect(createArgon2Hasher().verify(hash, 'pw')).resolves.toEqual({ ok: true, needsRehash: true });
    await expect(createArgon2Hasher().verify(hash, 'wrong')).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('verifies the right password as ok, with no rehash needed for the same parameters', async () => {
    const hasher = createArgon2Hasher(small);
    const hash = await hasher.hash('s3cret é');
    await expect(hasher.verify(hash, 's3cret é')).resolves.toEqual({ ok: true, needsRehash: false });
  });

  it('verifies a wrong password as not ok', async () => {
    const hasher = createArgon2Hasher(small);
    const hash = await hasher.hash('s3cret');
    await expect(hasher.verify(hash, 's3creT')).resolves.toEqual({ ok: false, needsRehash: false });
    await expect(hasher.verify(hash, '')).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('returns ok false, without throwing, for a null stored hash', async () => {
    await expect(createArgon2Hasher(small).verify(null, 'pw')).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('returns ok false, without throwing, for a stored hash that is not argon2', async () => {
    const hasher = createArgon2Hasher(small);
    await expect(hasher.verify('garbage', 'garbage')).resolves.toEqual({ ok: false, needsRehash: false });
    await expect(hasher.verify('', '')).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('returns ok false, without throwing, for a corrupt argon2 hash', async () => {
    const hasher = createArgon2Hasher(small);
    await expect(hasher.verify('$argon2id$garbage', 'pw')).resolves.toEqual({ ok: false, needsRehash: false });
    const hash = await hasher.hash('pw');
    await expect(hasher.verify(hash.slice(0, -10), 'pw')).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('reports needsRehash when the stored hash was made with other parameters', async () => {
    const hash = await createArgon2Hasher(small).hash('pw');
    await expect(createArgon2Hasher(other).verify(hash, 'pw')).resolves.toEqual({ ok: true, needsRehash: true });
  });

  it('reports needsRehash when only the time cost or parallelism differs', async () => {
    const hash = await createArgon2Hasher(small).hash('pw');
    await expect(createArgon2Hasher({ ...small, timeCost: 2 }).verify(hash, 'pw')).resolves.toEqual({
      ok: true,
      needsRehash: true,
    });
    await expect(createArgon2Hasher({ ...small, parallelism: 2 }).verify(hash, 'pw')).resolves.toEqual({
      ok: true,
      needsRehash: true,
    });
  });

  it(
    'never computes its own kind of hash when a cost parameter is ' + 'past HASH_BOUNDS, even for the right password',
    async () => {
      // Real hashes of 'pw', cheap to make here, one step past each bound (t = 17, p = 17, m = 128 MiB + 1 KiB).
      for (const parameters of [
        { ...small, timeCost: 17 },
        { ...small, parallelism: 17 },
        { memoryCostKiB: 131_073, timeCost: 1, parallelism: 1 },
      ]) {
        const hash = await createArgon2Hasher(parameters).hash('pw');
        await expect(createArgon2Hasher(small).verify(hash, 'pw'), hash).resolves.toEqual({
          ok: false,
          needsRehash: false,
        });
      }
      // At the bounds it verifies (and asks for a rehash to the current parameters).
      const atBound = await createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 16, parallelism: 16 }).hash('pw');
      await expect(createArgon2Hasher(small).verify(atBound, 'pw')).resolves.toEqual({ ok: true, needsRehash: true });
    },
  );

  it('does not report needsRehash for a wrong password, even with other parameters', async () => {
    const hash = await createArgon2Hasher(small).hash('pw');
    await expect(createArgon2Hasher(other).verify(hash, 'wrong')).resolves.toEqual({ ok: false, needsRehash: false });
  });
});
