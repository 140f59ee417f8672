import { isIPv6 } from 'node:net';
import { Redis } from 'ioredis';
import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { temporarilyUnavailable } from '../core/errors.js';
import type { LoginThrottle, ThrottleDecision, ThrottleSubjects } from '../core/ports.js';
import type { LockoutKind, LockoutSubject } from '../core/types.js';

/** Brute-force limits (RFC 6749 §4.3.2, §10.10; RFC 6819 §4.4.3.6, §5.2.3.3). Every number is a setting. */
export interface ThrottleSettings {
  /** Failed attempts (logins or client authentications) from one IP within `windowSeconds` before that IP is locked. */
  maxFailuresPerIp: number;
  /** Failed logins for one username, from any IP, within `windowSeconds` before the username is locked (distributed guessing). */
  maxFailuresPerUser: number;
  /** Consecutive failed logins for one username from one IP before that pair is locked out. */
  maxFailuresPerUserIp: number;
  /** From this many consecutive failures of one username from one IP on, each further attempt waits 1, 2, 4… s. */
  backoffAfter: number;
  /** Failed client authentications for one client id from one IP within `windowSeconds` before that pair is locked. */
  maxFailuresPerClientIp: number;
  /** How long a lockout lasts, and the window the counters count in, in seconds. */
  lockoutSeconds: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  maxFailuresPerIp: 100,
  maxFailuresPerUser: 100,
  maxFailuresPerUserIp: 10,
  backoffAfter: 3,
  maxFailuresPerClientIp: 20,
  lockoutSeconds: 900,
  windowSeconds: 3600,
};

/** Where the counters live. */
export interface ThrottleBackend {
  /** Shared by every instance; an outage falls back to `local` counting (the insurance limiter). */
  redis?: Redis;
  /** In a node:cluster worker: count in the primary (RateLimiterClusterMaster), so N workers share one limit. */
  cluster?: boolean;
  keyPrefix?: string;
  /** How long an attempt may wait for a counter full of attempts still being verified. Default 3000 ms. */
  maxWaitMs?: number;
}

/**
 * The key an IP is counted under. IPv6 by its /64: one subscriber usually holds a whole /64 and can
 * rotate through it freely (RFC 6177 §2, RFC 7934), so counting single addresses would multiply every
 * limit by 2^64. IPv4-mapped IPv6 addresses count as the IPv4 address.
 */
export function throttleKeyOfIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail takes two groups; it lies in the interface half either way.
  const tailLength = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = ip.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailLength).fill('0')]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * The network whose share of a username's cross-IP count is capped: the IP itself for IPv4, the /48 for IPv6.
 * One home connection commonly holds a /56 (256 /64s) and often a /48: keyed by /64, one subscriber could
 * add the per-pair limit once per /64 and lock the user out everywhere.
 */
export function shareKeyOfIpKey(ipKey: string): string {
  const v6 = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):[0-9a-f]+::\/64$/.exec(ipKey);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : ipKey;
}

/** A counter: points taken in a window, and a lock that refuses while set (a lockout, or a backoff). */
interface Counter {
  /** What `oauthd lockout list` calls a lockout of this counter. */
  kind: LockoutKind | 'user_ip_share';
  count: RateLimiterAbstract;
  lock: RateLimiterAbstract;
  max: number;
}

interface Taken {
  counter: Counter;
  key: string;
  /** How many points the counter held after this attempt took its own: its rank among the failures. */
  consumed: number;
}

type Consumed = { ok: true; taken: Taken } | { ok: false; counter: Counter; key: string };
type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const LOCKED = 2; // a lock limiter allows 1 point: `block()` sets consumedPoints above it

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
  const prefix = backend.keyPrefix ?? 'oauthd';
  const make = (name: string, points: number, duration: number): RateLimiterAbstract => {
    const keyPrefix = `${prefix}:${name}`;
    const local = backend.cluster
      ? new RateLimiterCluster({ keyPrefix, points, duration, timeoutMs: 2000 })
      : new RateLimiterMemory({ keyPrefix, points, duration });
    if (!backend.redis) return local;
    const shared = new RateLimiterRedis({
      storeClient: backend.redis,
      keyPrefix,
      points,
      duration,
      insuranceLimiter: local,
    });
    insurance.set(shared, local);
    return shared;
  };
  /** The local limiter behind each Redis one: a clear forgets what was counted there during an outage too. */
  const insurance = new WeakMap<RateLimiterAbstract, RateLimiterAbstract>();
  const counter = (kind: Counter['kind'], max: number): Counter => ({
    kind,
    count: make(`${kind}:count`, max, settings.windowSeconds),
    lock: make(`${kind}:lock`, 1, 1),
    max,
  });
  const ip = counter('ip', settings.maxFailuresPerIp);
  const user = counter('user', settings.maxFailuresPerUser);
  const userIp = counter('user_ip', settings.maxFailuresPerUserIp);
  const userIpShare = counter('user_ip_share', settings.maxFailuresPerUserIp);
  const clientIp = counter('client_ip', settings.maxFailuresPerClientIp);
  // The backoff before a (username, IP) lockout: a lock of its own, so a backoff set by a failure that ends
  // after the lockout's cannot shorten the lockout.
  const backoff = make('user_ip:backoff', 1, 1);
  /** The subject a counter's key names, as a lockout records it. */
  const subjectOf = (c: Counter, s: ThrottleSubjects): LockoutSubject => {
    const ipKey = throttleKeyOfIp(s.ip);
    switch (c.kind) {
      case 'user':
        return { kind: 'user', username: s.username ?? null, clientId: null, ipKey: null };
      case 'client_ip':
        return { kind: 'client_ip', username: null, clientId: s.clientId ?? null, ipKey };
      case 'ip':
        return { kind: 'ip', username: null, clientId: null, ipKey };
      default:
        return { kind: 'user_ip', username: s.username ?? null, clientId: null, ipKey };
    }
  };
  /** Forgets a counter's count and lock for one key (and the local counts behind Redis). */
  const forget = (c: Counter, key: string) =>
    Promise.all(
      [c.count, c.lock].flatMap((limiter) => {
        const local = insurance.get(limiter);
        return [limiter.delete(key), ...(local ? [local.delete(key)] : [])];
      }),
    );
  const lockoutMs = settings.lockoutSeconds * 1000;
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

  /** The counters an attempt by these subjects is counted in (the per-username one is gated, see reserve). */
  const keysOf = (
    s: ThrottleSubjects,
  ): { direct: [Counter, string][]; pairKey: string | undefined; shareKey: string | undefined } => {
    const ipKey = throttleKeyOfIp(s.ip);
    const direct: [Counter, string][] = [[ip, ipKey]];
    const pairKey = s.username !== undefined ? `${s.username}\u0000${ipKey}` : undefined;
    const shareKey = s.username !== undefined ? `${s.username}\u0000${shareKeyOfIpKey(ipKey)}` : undefined;
    if (pairKey !== undefined) direct.push([userIp, pairKey]);
    if (s.clientId !== undefined) direct.push([clientIp, `${s.clientId}\u0000${ipKey}`]);
    return { direct, pairKey, shareKey };
  };
  /** The longest lock (lockout, or the pair's backoff) among these subjects, in ms (0: none). */
  const lockedMs = async (keys: [Counter, string][], pairKey: string | undefined): Promise<number> => {
    const locks = await Promise.all([
      ...keys.map(([c, key]) => c.lock.get(key)),
      ...(pairKey !== undefined ? [backoff.get(pairKey)] : []),
    ]);
    return Math.max(0, ...locks.map((l) => (l && l.consumedPoints >= LOCKED ? l.msBeforeNext : 0)));
  };
  const consume = async (counter: Counter, key: string, weight: number): Promise<Consumed> => {
    try {
      const res = await counter.count.consume(key, weight);
      return { ok: true, taken: { counter, key, consumed: res.consumedPoints } };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { ok: false, counter, key };
      throw rejection;
    }
  };
  const giveBack = (taken: readonly { counter: Counter; key: string }[], weight: number) =>
    Promise.all(taken.map((t) => t.counter.count.reward(t.key, weight)));

  /** One try; `full` when refused only because the counters are full of attempts still being verified. */
  const tryReserve = async (
    subjects: ThrottleSubjects,
    weight: number,
  ): Promise<ThrottleDecision | { allowed: false; full: true }> => {
    const { direct, pairKey, shareKey } = keysOf(subjects);
    const locksOf: [Counter, string][] =
      subjects.username !== undefined ? [...direct, [user, subjects.username]] : direct;
    const [settled, lockMs] = await Promise.all([
      Promise.allSettled(direct.map(([c, key]) => consume(c, key, weight))),
      lockedMs(locksOf, pairKey),
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

    // The cross-IP counter of the username: this IP's share of it is capped at the per-pair limit per
    // window, so one IP can never push the user into the lockout that refuses every other IP.
    if (shareKey !== undefined && subjects.username !== undefined) {
      const share = await consume(userIpShare, shareKey, weight);
      if (share.ok) {
        taken.push(share.taken);
        const shared = await consume(user, subjects.username, weight);
        if (!shared.ok) {
          await giveBack([...taken, shared], weight);
          return { allowed: false, full: true };
        }
        taken.push(shared.taken);
      }
    }

    return {
      allowed: true,
      weight,
      reservation: {
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
      },
    };
  };

  /**
   * A counter full of attempts still being verified is not a lockout: the attempt waits (polling, with a
   * growing pause) until one of them ends. A success gives its point back and lets a waiter in; failures
   * keep theirs, and the one that reaches the limit sets the lock that then refuses every waiter. So a
   * client's own burst of right passwords is served, a little later, while a burst of guesses still gets
   * only `max` verifications. After `maxWaitMs` the attempt is refused with Retry-After: 1.
   */
  const reserve = (subjects: ThrottleSubjects, weight: number): Promise<ThrottleDecision> =>
    patiently(async () => {
      const decision = await tryReserve(subjects, weight);
      // A request that would try two forms of a secret where the counter has room for one tries one: a
      // counter one short of its limit must not refuse such requests until the window ends.
      return 'full' in decision && weight > 1 ? tryReserve(subjects, 1) : decision;
    });

  /** One look; `full` as in tryReserve. */
  const tryCheck = async (
    subjects: ThrottleSubjects,
    weight: number,
  ): Promise<Verdict | { allowed: false; full: true }> => {
    const { direct, pairKey } = keysOf(subjects);
    const looks: [Counter, string][] =
      subjects.username !== undefined ? [...direct, [user, subjects.username]] : direct;
    // The locks are read with the counts, not only when a count is full: attempts refused during a
    // lockout take a point and give it back, and one given back after the block can leave a locked count
    // under the limit for a moment.
    const reads = await Promise.all([
      ...looks.map(([c, key]) => c.count.get(key)),
      ...looks.map(([c, key]) => c.lock.get(key)),
      ...(pairKey !== undefined ? [backoff.get(pairKey)] : []),
    ]);
    const counts = reads.slice(0, looks.length);
    const lockMs = Math.max(
      0,
      ...reads.slice(looks.length).map((l) => (l && l.consumedPoints >= LOCKED ? l.msBeforeNext : 0)),
    );
    if (lockMs > 0) return { allowed: false, retryAfterSeconds: seconds(Math.min(lockMs, lockoutMs)) };
    const full = counts.some((res, i) => res !== null && res.consumedPoints + weight > looks[i]![0].max);
    return full ? { allowed: false, full: true } : { allowed: true };
  };

  /** Waits while the counters are full of attempts being verified, as reserve does. */
  const patiently = async <T extends { allowed: boolean }>(
    attempt: () => Promise<T | { allowed: false; full: true }>,
  ): Promise<T | { allowed: false; retryAfterSeconds: number }> => {
    const deadline = Date.now() + (backend.maxWaitMs ?? 3000);
    for (let pauseMs = 10; ; pauseMs = Math.min(pauseMs * 2, 200)) {
      const decision = await attempt();
      if (!('full' in decision)) return decision;
      if (Date.now() + pauseMs > deadline) return { allowed: false, retryAfterSeconds: 1 };
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  // The counters could not be reached (the cluster primary did not answer in time): answer 503 rather
  // than let guesses through uncounted.
  const orUnavailable = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw temporarilyUnavailable(`brute-force counters unavailable: ${(error as Error).message}`);
    }
  };

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
      const first = await orUnavailable(() => tryCheck(subjects, weight));
      return 'full' in first ? orUnavailable(() => patiently(() => tryCheck(subjects, weight))) : first;
    },
    async clear(subject) {
      // The keys keysOf gives the subject; a username from one IP also loses its share of the cross-IP count.
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
    },
    async close() {
      backend.redis?.disconnect();
    },
  };
}

/** Whether the shared counters can be reached, as the Redis connection last reported it. */
export interface RedisHealth {
  /** false from the first error until the connection is ready again. */
  reachable(): boolean;
}

/**
 * A Redis connection for shared counters; commands fail fast (no offline queue) so the insurance limiter
 * takes over. `onChange` hears once when Redis goes (and counting falls back to this instance) and once
 * when it comes back, not at every failed command or reconnection attempt.
 */
export function connectRedis(
  url: string,
  onChange: (reachable: boolean, reason?: string) => void = () => {},
): Redis & RedisHealth {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
  });
  let reachable = true;
  const down = (reason: string) => {
    if (!reachable) return;
    reachable = false;
    onChange(false, reason);
  };
  redis.on('error', (error: Error) => down(error.message || (error as { code?: string }).code || 'connection error'));
  redis.on('close', () => down('connection closed'));
  redis.on('ready', () => {
    if (reachable) return;
    reachable = true;
    onChange(true);
  });
  return Object.assign(redis, { reachable: () => reachable });
}
