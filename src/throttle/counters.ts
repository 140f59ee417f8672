import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { ThrottleSubjects } from '../core/ports.js';
import type { LockoutKind, LockoutSubject } from '../core/types.js';
import { shareKeyOfIpKey, throttleKeyOfIp } from './keys.js';
import type { ThrottleBackend, ThrottleSettings } from './settings.js';

/** A counter: points taken in a window, and a lock that refuses while set (a lockout, or a backoff). */
export interface Counter {
  /** What `oauthd lockout list` calls a lockout of this counter. */
  kind: LockoutKind | 'user_ip_share';
  count: RateLimiterAbstract;
  lock: RateLimiterAbstract;
  max: number;
}

export interface Taken {
  counter: Counter;
  key: string;
  /** How many points the counter held after this attempt took its own: its rank among the failures. */
  consumed: number;
}

export type Consumed = { ok: true; taken: Taken } | { ok: false; counter: Counter; key: string };

const LOCKED = 2; // a lock limiter allows 1 point: `block()` sets consumedPoints above it

export type Counters = ReturnType<typeof createCounters>;

/** The throttle's counters, in memory, in the cluster primary or in Redis (with local insurance). */
export function createCounters(settings: ThrottleSettings, backend: ThrottleBackend) {
  const prefix = backend.keyPrefix ?? 'oauthd';
  /** The local limiter behind each Redis one: a clear forgets what was counted there during an outage too. */
  const insurance = new WeakMap<RateLimiterAbstract, RateLimiterAbstract>();
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
  const counter = (kind: Counter['kind'], max: number): Counter => ({
    kind,
    count: make(`${kind}:count`, max, settings.windowSeconds),
    lock: make(`${kind}:lock`, 1, 1),
    max,
  });
  return {
    ip: counter('ip', settings.maxFailuresPerIp),
    user: counter('user', settings.maxFailuresPerUser),
    userIp: counter('user_ip', settings.maxFailuresPerUserIp),
    userIpShare: counter('user_ip_share', settings.maxFailuresPerUserIp),
    clientIp: counter('client_ip', settings.maxFailuresPerClientIp),
    // The backoff before a (username, IP) lockout: a lock of its own, so a backoff set by a failure that ends
    // after the lockout's cannot shorten the lockout.
    backoff: make('user_ip:backoff', 1, 1),
    /** Forgets a counter's count and lock for one key (and the local counts behind Redis). */
    forget: (c: Counter, key: string) =>
      Promise.all(
        [c.count, c.lock].flatMap((limiter) => {
          const local = insurance.get(limiter);
          return [limiter.delete(key), ...(local ? [local.delete(key)] : [])];
        }),
      ),
  };
}

/** The subject a counter's key names, as a lockout records it. */
export function subjectOf(c: Counter, s: ThrottleSubjects): LockoutSubject {
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
}

/** The counters an attempt by these subjects is counted in (the per-username one is gated, see tryReserve). */
export function keysOf(
  counters: Counters,
  s: ThrottleSubjects,
): { direct: [Counter, string][]; pairKey: string | undefined; shareKey: string | undefined } {
  const ipKey = throttleKeyOfIp(s.ip);
  const direct: [Counter, string][] = [[counters.ip, ipKey]];
  const pairKey = s.username !== undefined ? `${s.username}\u0000${ipKey}` : undefined;
  const shareKey = s.username !== undefined ? `${s.username}\u0000${shareKeyOfIpKey(ipKey)}` : undefined;
  if (pairKey !== undefined) direct.push([counters.userIp, pairKey]);
  if (s.clientId !== undefined) direct.push([counters.clientIp, `${s.clientId}\u0000${ipKey}`]);
  return { direct, pairKey, shareKey };
}

/** How long a lock (read with `lock.get`) still refuses, in ms (0: not locked). */
export function lockMsOf(lock: { consumedPoints: number; msBeforeNext: number } | null): number {
  return lock && lock.consumedPoints >= LOCKED ? lock.msBeforeNext : 0;
}

/** The longest lock (lockout, or the pair's backoff) among these subjects, in ms (0: none). */
export async function lockedMs(
  counters: Counters,
  keys: [Counter, string][],
  pairKey: string | undefined,
): Promise<number> {
  const locks = await Promise.all([
    ...keys.map(([c, key]) => c.lock.get(key)),
    ...(pairKey !== undefined ? [counters.backoff.get(pairKey)] : []),
  ]);
  return Math.max(0, ...locks.map(lockMsOf));
}

export async function consume(counter: Counter, key: string, weight: number): Promise<Consumed> {
  try {
    const res = await counter.count.consume(key, weight);
    return { ok: true, taken: { counter, key, consumed: res.consumedPoints } };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { ok: false, counter, key };
    throw rejection;
  }
}

export function giveBack(taken: readonly { counter: Counter; key: string }[], weight: number) {
  return Promise.all(taken.map((t) => t.counter.count.reward(t.key, weight)));
}

/** Milliseconds as whole seconds for Retry-After, at least 1. */
export const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
