import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LoginThrottle, ThrottleSubjects } from '../core/ports.js';

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

type Make = (prefix: string, points: number, duration: number) => RateLimiterAbstract;

/** A counted subject: failures counted in a window, and a lock set explicitly (lockout or backoff). */
interface Subject {
  count: RateLimiterAbstract;
  lock: RateLimiterAbstract;
  max: number;
}

const LOCKED = 2; // the lock limiter allows 1 point: `block()` sets consumedPoints above it

/**
 * The login throttle on rate-limiter-flexible: counters in memory (one instance) or in Redis (shared by
 * every instance; a Redis outage falls back to in-memory counting via the insurance limiter rather than
 * failing logins).
 *
 * The keys are chosen so that an attacker cannot lock out someone else: a username is locked out *per IP*
 * (a flood from one IP does not lock out the user elsewhere); the per-username limit across all IPs only
 * trips under a distributed attack, and it is high. A locked subject is refused before any password is
 * checked, so the right password during a lockout is refused too (no oracle).
 */
export function createLoginThrottle(settings: ThrottleSettings, options: { redis?: Redis; keyPrefix?: string } = {}): LoginThrottle & { close(): Promise<void> } {
  const prefix = options.keyPrefix ?? 'oauthd';
  const make: Make = (name, points, duration) => {
    const keyPrefix = `${prefix}:${name}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!options.redis) return memory;
    return new RateLimiterRedis({ storeClient: options.redis, keyPrefix, points, duration, insuranceLimiter: memory });
  };
  const subject = (name: string, max: number): Subject => ({
    count: make(`${name}:count`, max, settings.windowSeconds),
    lock: make(`${name}:lock`, 1, 1),
    max,
  });
  const ip = subject('ip', settings.maxFailuresPerIp);
  const user = subject('user', settings.maxFailuresPerUser);
  const userIp = subject('user_ip', settings.maxFailuresPerUserIp);
  const clientIp = subject('client_ip', settings.maxFailuresPerClientIp);

  const keysOf = (s: ThrottleSubjects): [Subject, string][] => {
    const keys: [Subject, string][] = [[ip, s.ip]];
    if (s.username !== undefined) keys.push([user, s.username], [userIp, `${s.username}\u0000${s.ip}`]);
    if (s.clientId !== undefined) keys.push([clientIp, `${s.clientId}\u0000${s.ip}`]);
    return keys;
  };

  return {
    async retryAfterSeconds(subjects) {
      const waits = await Promise.all(
        keysOf(subjects).map(async ([{ lock }, key]) => {
          const res = await lock.get(key);
          return res && res.consumedPoints >= LOCKED ? Math.ceil(res.msBeforeNext / 1000) : 0;
        }),
      );
      return Math.max(0, ...waits);
    },

    async failed(subjects) {
      let lockedOut = false;
      for (const [s, key] of keysOf(subjects)) {
        const res = await s.count.penalty(key, 1);
        const failures = res.consumedPoints;
        if (failures >= s.max) {
          await s.lock.block(key, settings.lockoutSeconds);
          await s.count.delete(key);
          lockedOut = true;
        } else if (s === userIp && failures >= settings.backoffAfter) {
          // Backoff before the lockout: 1 s, 2 s, 4 s… (RFC 6819 §5.2.3.3 "limit the number of attempts").
          await s.lock.block(key, Math.min(2 ** (failures - settings.backoffAfter), settings.lockoutSeconds));
        }
      }
      return { lockedOut };
    },

    async succeeded(subjects) {
      // Consecutive failures of this username from this IP start again; the others are windows.
      if (subjects.username === undefined) return;
      const key = `${subjects.username}\u0000${subjects.ip}`;
      await Promise.all([userIp.count.delete(key), userIp.lock.delete(key)]);
    },

    async close() {
      options.redis?.disconnect();
    },
  };
}

/** A Redis connection for shared counters; commands fail fast (no offline queue) so the insurance limiter takes over. */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
  redis.on('error', () => {
    // Reported by the failing commands (and covered by the insurance limiter); never crash the process.
  });
  return redis;
}
