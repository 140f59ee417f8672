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
 * one-minute window per client id, in memory, in the cluster primary (`--workers N` without Redis) or in Redis
 * (with local counting through a Redis outage, like the login throttle). A counter that cannot be reached at
 * all lets the request through: the limit shares load fairly, it is no defence against guessing (the login
 * throttle is, and fails closed).
 */
export function createClientRateLimiter(backend: ThrottleBackend = {}): ClientRateLimiter {
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
  return {
    async take(clientId, perMinute) {
      let taken: { consumedPoints: number; msBeforeNext: number };
      try {
        taken = await limiter.consume(clientId, 1);
      } catch {
        return { allowed: true };
      }
      return taken.consumedPoints <= perMinute
        ? { allowed: true }
        : { allowed: false, retryAfterSeconds: seconds(taken.msBeforeNext) };
    },
  };
}
