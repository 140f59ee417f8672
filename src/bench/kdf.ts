import argon2 from 'argon2';
import { OWASP_ARGON2ID } from '../crypto/argon2-hasher.js';

export interface KdfRate {
  algorithm: string;
  parameters: typeof OWASP_ARGON2ID;
  concurrency: number;
  hashes: number;
  seconds: number;
  hashesPerSecond: number;
}

/**
 * The raw rate of the password KDF on this machine: argon2id with the server's parameters, verifying with
 * `concurrency` hashes in flight at once (the server's OAUTHD_HASH_CONCURRENCY), for `seconds`. A password
 * grant costs one such verification, so this is the most password grants per second the server can answer.
 */
export async function measureKdf(concurrency: number, seconds: number): Promise<KdfRate> {
  const options = {
    type: argon2.argon2id,
    memoryCost: OWASP_ARGON2ID.memoryCostKiB,
    timeCost: OWASP_ARGON2ID.timeCost,
    parallelism: OWASP_ARGON2ID.parallelism,
  } as const;
  const stored = await argon2.hash('bench-password', options);
  await argon2.verify(stored, 'bench-password'); // warm the thread pool
  let hashes = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        if (!(await argon2.verify(stored, 'bench-password'))) throw new Error('argon2 verify failed');
        hashes += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    algorithm: 'argon2id',
    parameters: OWASP_ARGON2ID,
    concurrency,
    hashes,
    seconds: elapsed,
    hashesPerSecond: hashes / elapsed,
  };
}
