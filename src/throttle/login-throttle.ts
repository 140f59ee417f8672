import type { LockoutSubject } from '../core/types.js';
import type { LoginThrottle, ThrottleDecision, ThrottleSubjects } from '../core/ports.js';
import { tryCheck } from './check.js';
import { type Counters, createCounters } from './counters.js';
import { shareKeyOfIpKey } from './keys.js';
import { tryReserve } from './reservation.js';
import type { ThrottleBackend, ThrottleSettings } from './settings.js';
import { orUnavailable, patiently } from './waiting.js';

/**
 * The login throttle on rate-limiter-flexible: counters in memory (one process), in the cluster primary
 * (`--workers N` without Redis), or in Redis (shared by every instance; a Redis outage falls back to local
 * counting through the insurance limiter rather than failing logins).
 *
 * Every attempt whose verdict is not known at once takes its points before the secret is verified (atomic
 * in each backend: a memory map, the primary's single thread, a Redis script) and gives them back when the
 * secret was right. So a burst of N concurrent wrong guesses is counted as N before any verification ends:
 * at most `max` of them are verified, the rest are refused with 429 once the lockout starts. An attempt that
 * meets a counter full of attempts still being verified waits for one of them to end (see `reserve`); one
 * refused by a lockout is told when it ends.
 *
 * The keys are chosen so that an attacker cannot lock out someone else: a username is locked out *per IP*
 * (a flood from one IP does not lock out the user elsewhere); the per-username limit across all IPs only
 * trips under a distributed attack, and one IP adds at most `maxFailuresPerUserIp` to it per window (the
 * `user_ip_share` counter gates it). A locked subject is refused before any password is checked, so the
 * right password during a lockout is refused too (no oracle).
 */
export function createLoginThrottle(
  settings: ThrottleSettings,
  backend: ThrottleBackend = {},
): LoginThrottle & { close(): Promise<void> } {
  const counters = createCounters(settings, backend);
  const maxWaitMs = backend.maxWaitMs ?? 3000;

  /**
   * A counter full of attempts still being verified is not a lockout: the attempt waits (polling, with a
   * growing pause) until one of them ends. A success gives its point back and lets a waiter in; failures
   * keep theirs, and the one that reaches the limit sets the lock that then refuses every waiter. So a
   * client's own burst of right passwords is served, a little later, while a burst of guesses still gets
   * only `max` verifications. After `maxWaitMs` the attempt is refused with Retry-After: 1.
   */
  const reserve = (subjects: ThrottleSubjects, weight: number): Promise<ThrottleDecision> =>
    patiently(maxWaitMs, async () => {
      const decision = await tryReserve(counters, settings, subjects, weight);
      // A request that would try two forms of a secret where the counter has room for one tries one: a
      // counter one short of its limit must not refuse such requests until the window ends.
      return 'full' in decision && weight > 1 ? tryReserve(counters, settings, subjects, 1) : decision;
    });

  return {
    async reserve(subjects, weight = 1) {
      const decision = await orUnavailable(() => reserve(subjects, weight));
      if (!decision.allowed) return decision;
      const { reservation } = decision;
      return {
        allowed: true,
        weight: decision.weight,
        reservation: {
          succeeded: () => orUnavailable(reservation.succeeded),
          failed: () => orUnavailable(reservation.failed),
        },
      };
    },
    // On the hot path of every refresh and introspection: one look, and the waiting loop only when full.
    async check(subjects, weight = 1) {
      const first = await orUnavailable(() => tryCheck(counters, settings, subjects, weight));
      return 'full' in first
        ? orUnavailable(() => patiently(maxWaitMs, () => tryCheck(counters, settings, subjects, weight)))
        : first;
    },
    clear: (subject) => clearSubject(counters, subject),
    async close() {
      backend.redis?.disconnect();
    },
  };
}

/** Forgets a subject's counts and locks: the keys keysOf gives it. */
async function clearSubject(counters: Counters, subject: LockoutSubject): Promise<void> {
  const { user, userIp, userIpShare, ip, clientIp, backoff, forget } = counters;
  // A username from one IP also loses its share of the cross-IP count.
  const ipKey = subject.ipKey ?? '';
  switch (subject.kind) {
    case 'user':
      if (subject.username !== null) await forget(user, subject.username);
      break;
    case 'user_ip':
      if (subject.username !== null) {
        await Promise.all([
          forget(userIp, `${subject.username}\u0000${ipKey}`),
          forget(userIpShare, `${subject.username}\u0000${shareKeyOfIpKey(ipKey)}`),
          backoff.delete(`${subject.username}\u0000${ipKey}`),
        ]);
      }
      break;
    case 'ip':
      await forget(ip, ipKey);
      break;
    case 'client_ip':
      if (subject.clientId !== null) await forget(clientIp, `${subject.clientId}\u0000${ipKey}`);
      break;
  }
}
