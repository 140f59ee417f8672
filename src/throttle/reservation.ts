import type { ThrottleDecision, ThrottleSubjects } from '../core/ports.js';
import type { LockoutSubject } from '../core/types.js';
import {
  type Consumed,
  type Counter,
  type Counters,
  consume,
  giveBack,
  keysOf,
  lockedMs,
  seconds,
  subjectOf,
  type Taken,
} from './counters.js';
import type { ThrottleSettings } from './settings.js';
import type { Full } from './waiting.js';

/**
 * One try at reserving an attempt: its points are taken before the secret is verified and given back if it
 * was right. `full` when refused only because the counters are full of attempts still being verified.
 */
export async function tryReserve(
  counters: Counters,
  settings: ThrottleSettings,
  subjects: ThrottleSubjects,
  weight: number,
): Promise<ThrottleDecision | Full> {
  const { direct, pairKey, shareKey } = keysOf(counters, subjects);
  const locksOf: [Counter, string][] =
    subjects.username !== undefined ? [...direct, [counters.user, subjects.username]] : direct;
  const [settled, lockMs] = await Promise.all([
    Promise.allSettled(direct.map(([c, key]) => consume(c, key, weight))),
    lockedMs(counters, locksOf, pairKey),
  ]);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // A counter could not be reached: give back what the others took before giving up (503).
    await Promise.allSettled(
      settled.flatMap((r) =>
        r.status === 'fulfilled' ? [giveBack([r.value.ok ? r.value.taken : r.value], weight)] : [],
      ),
    );
    throw failure.reason;
  }
  const results = settled.map((r) => (r as PromiseFulfilledResult<Consumed>).value);
  const taken = results.flatMap((r) => (r.ok ? [r.taken] : []));
  if (lockMs > 0 || taken.length < results.length) {
    // A refused consume still added its points: give back everything this attempt took.
    await giveBack(
      results.map((r) => (r.ok ? r.taken : r)),
      weight,
    );
    return lockMs > 0 ? { allowed: false, retryAfterSeconds: seconds(lockMs) } : { allowed: false, full: true };
  }
  if (shareKey !== undefined && subjects.username !== undefined) {
    if (!(await takeUserShare(counters, subjects.username, shareKey, taken, weight))) {
      return { allowed: false, full: true };
    }
  }
  return { allowed: true, weight, reservation: reservationOf(counters, settings, subjects, taken, pairKey, weight) };
}

/**
 * The cross-IP counter of the username: this IP's share of it is capped at the per-pair limit per window, so
 * one IP can never push the user into the lockout that refuses every other IP. Adds what it takes to `taken`;
 * false (everything given back) when the username's counter is full.
 */
async function takeUserShare(
  counters: Counters,
  username: string,
  shareKey: string,
  taken: Taken[],
  weight: number,
): Promise<boolean> {
  const share = await consume(counters.userIpShare, shareKey, weight);
  if (!share.ok) return true;
  taken.push(share.taken);
  const shared = await consume(counters.user, username, weight);
  if (!shared.ok) {
    await giveBack([...taken, shared], weight);
    return false;
  }
  taken.push(shared.taken);
  return true;
}

/** What an allowed attempt reports once its secret is verified. */
function reservationOf(
  counters: Counters,
  settings: ThrottleSettings,
  subjects: ThrottleSubjects,
  taken: readonly Taken[],
  pairKey: string | undefined,
  weight: number,
) {
  const { userIp, userIpShare, backoff } = counters;
  return {
    async succeeded() {
      // Consecutive failures of this username from this IP start again; the others are windows.
      const windows = taken.filter((t) => t.counter !== userIp);
      // Not the pair's lockout lock: one set meanwhile by another attempt of the burst stands.
      await Promise.all([
        giveBack(windows, weight),
        ...(pairKey !== undefined ? [userIp.count.delete(pairKey), backoff.delete(pairKey)] : []),
      ]);
    },
    async failed() {
      let lockedOut = false;
      const locked: (LockoutSubject & { seconds: number })[] = [];
      for (const t of taken) {
        if (t.counter === userIpShare) continue; // a gate, not a limit
        if (t.consumed >= t.counter.max) {
          // Locked until the lockout ends; the count then starts from zero (it expires with the lock).
          await Promise.all([
            t.counter.lock.block(t.key, settings.lockoutSeconds),
            t.counter.count.block(t.key, settings.lockoutSeconds),
          ]);
          lockedOut = true;
          locked.push({ ...subjectOf(t.counter, subjects), seconds: settings.lockoutSeconds });
        } else if (t.counter === userIp && t.consumed >= settings.backoffAfter) {
          // Backoff before the lockout: 1 s, 2 s, 4 s… (RFC 6819 §5.2.3.3 "limit the number of attempts").
          await backoff.block(t.key, Math.min(2 ** (t.consumed - settings.backoffAfter), settings.lockoutSeconds));
        }
      }
      return { lockedOut, locked };
    },
  };
}
