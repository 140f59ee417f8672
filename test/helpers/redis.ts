import { Redis } from 'ioredis';

export const REDIS_URL = process.env.OAUTHD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Is Redis reachable? Where it is required (CI sets OAUTHD_REQUIRE_REDIS=1) a missing Redis fails the
 * run; elsewhere the tests that need it skip, loudly.
 */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    if (process.env.OAUTHD_REQUIRE_REDIS === '1')
      throw new Error(
        `Redis is required (OAUTHD_REQUIRE_REDIS=1) but unreachable at ${REDIS_URL}: ${(error as Error).message}`,
      );
    console.warn(
      `\n*** SKIPPING Redis tests: Redis unreachable at ${REDIS_URL} (${(error as Error).message}). Set ` +
        `OAUTHD_REQUIRE_REDIS=1 to make this fail. ***\n`,
    );
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under a prefix (a test's own namespace). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
