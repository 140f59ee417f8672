import type { ThrottleSubjects } from '../core/ports.js';
import { type Counter, type Counters, keysOf, lockMsOf, seconds } from './counters.js';
import type { ThrottleSettings } from './settings.js';
import type { Full } from './waiting.js';

type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** One look at the counters, taking nothing; `full` as in tryReserve. */
export async function tryCheck(
  counters: Counters,
  settings: ThrottleSettings,
  subjects: ThrottleSubjects,
  weight: number,
): Promise<Verdict | Full> {
  const { direct, pairKey } = keysOf(counters, subjects);
  const looks: [Counter, string][] =
    subjects.username !== undefined ? [...direct, [counters.user, subjects.username]] : direct;
  // The locks are read with the counts, not only when a count is full: attempts refused during a
  // lockout take a point and give it back, and one given back after the block can leave a locked count
  // under the limit for a moment.
  const reads = await Promise.all([
    ...looks.map(([c, key]) => c.count.get(key)),
    ...looks.map(([c, key]) => c.lock.get(key)),
    ...(pairKey !== undefined ? [counters.backoff.get(pairKey)] : []),
  ]);
  const counts = reads.slice(0, looks.length);
  const lockMs = Math.max(0, ...reads.slice(looks.length).map(lockMsOf));
  const lockoutMs = settings.lockoutSeconds * 1000;
  if (lockMs > 0) return { allowed: false, retryAfterSeconds: seconds(Math.min(lockMs, lockoutMs)) };
  const full = counts.some((res, i) => res !== null && res.consumedPoints + weight > looks[i]![0].max);
  return full ? { allowed: false, full: true } : { allowed: true };
}
