import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { ClientRateLimiter } from '../core/token-endpoint.js';
import { seconds } from './counters.js';
import type { ThrottleBackend } from './settings.js';

/** Each client's own limit is compared with the count, so one counter serves every limit: it never refuses. */
const UNBOUNDED = 2 ** 31 - 1;
const MINUTE = 60;

/**
 * Per-client token-endpoint rate limits (core/token-endpoint.ts ClientRateLimiter) on rate-limiter-flexible: a fixed
 * one-minute window per key, in memory, in the cluster primary (`--workers N` without Redis) or in Redis (with
 * local counting through a Redis outage, like the login throttle). A counter that cannot be reached at all (the
 * cluster primary does not answer) lets the request through: a client's own limit shares load fairly, it is no
 * defence against guessing. With `failClosed` (the device page's user-code guesses, RFC 8628 §5.1) it refuses
 * instead, for a second, as the login throttle does.
 */
export function createClientRateLimiter(backend: ThrottleBackend & { failClosed?: boolean } = {}): ClientRateLimiter {
  const keyPrefix = `${backend.keyPrefix ?? 'oauthd'}:client_rate`;
  const local: RateLimiterAbstract = backend.cluster
    ? new RateLimiterCluster({ keyPrefix, points: UNBOUNDED, duration: MINUTE, timeoutMs: 2000 })
    : new RateLimiterMemory({ keyPrefix, points: UNBOUNDED, duration: MINUTE });
  const limiter = backend.redis
    ? new RateLimiterRedis({
        storeClient: backend.redis,
        keyPrefix,
        points: UNBOUNDED,
        duration: MINUTE,
        insuranceLimiter: local,
      })
    : local;
  return limitOver(limiter, backend.failClosed === true);
}

/** The limit over a one-minute counter; when the counter fails, open or (`failClosed`) a refusal for a second. */
export function limitOver(limiter: Pick<RateLimiterAbstract, 'consume'>, failClosed: boolean): ClientRateLimiter {
  return {
    async take(key, perMinute) {
      let taken: { consumedPoints: number; msBeforeNext: number };
      try {
        taken = await limiter.consume(key, 1);
      } catch {
        return failClosed ? { allowed: false, retryAfterSeconds: 1 } : { allowed: true };
      }
      return taken.consumedPoints <= perMinute
        ? { allowed: true }
        : { allowed: false, retryAfterSeconds: seconds(taken.msBeforeNext) };
    },
  };
}
