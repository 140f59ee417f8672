import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable } from '../../test/helpers/redis.js';
import { createClientRateLimiter, limitOver } from './client-rate-limit.js';

describe('createClientRateLimiter in memory', () => {
  it('allows each client its own number of requests per minute, then says when to retry', async () => {
    const limiter = createClientRateLimiter({ keyPrefix: `t${Date.now()}` });
    for (let i = 0; i < 3; i++) expect(await limiter.take('a', 3)).toEqual({ allowed: true });
    const refused = await limiter.take('a', 3);
    expect(refused.allowed).toBe(false);
    expect(!refused.allowed && refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(!refused.allowed && refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await limiter.take('b', 3)).toEqual({ allowed: true });
    // A raised limit applies to the count so far.
    expect(await limiter.take('a', 10)).toEqual({ allowed: true });
  });
});

describe('createClientRateLimiter on Redis', async () => {
  const available = await redisAvailable();
  const redis = available ? new Redis(REDIS_URL) : undefined;
  afterAll(() => redis?.disconnect());

  it.skipIf(!available)('shares one count between two instances', async () => {
    const keyPrefix = `oauthd-test-${process.pid}-${Date.now()}`;
    const a = createClientRateLimiter({ redis: redis!, keyPrefix });
    const b = createClientRateLimiter({ redis: redis!, keyPrefix });
    expect(await a.take('shared', 2)).toEqual({ allowed: true });
    expect(await b.take('shared', 2)).toEqual({ allowed: true });
    expect((await a.take('shared', 2)).allowed).toBe(false);
    expect((await b.take('shared', 2)).allowed).toBe(false);
  });
});

describe('a counter that cannot be reached', () => {
  const unreachable = { consume: () => Promise.reject(new Error('the cluster primary did not answer')) };

  it('lets a client rate limit through (it shares load, it does not stop guessing)', async () => {
    expect(await limitOver(unreachable, false).take('a', 1)).toEqual({ allowed: true });
  });

  it('refuses a guessing limit for a second (failClosed: the device page’s user codes)', async () => {
    expect(await limitOver(unreachable, true).take('a', 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });
});
