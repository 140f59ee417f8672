import { Redis } from 'ioredis';

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
