/**
 * Shared brute-force counters when Redis goes away and comes back: one warning line each way (not one
 * per failed command), logins keep working on per-instance counting, and the admin listener's /readyz
 * says the limits are degraded meanwhile. RFC 6749 §4.3.2 (brute-force protection must not fail open:
 * the instance keeps counting by itself).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deleteRedisKeys, redisAvailable, REDIS_URL } from '../helpers/redis.js';
import { SEED, passwordGrant, seedSpecSample, startTestServer } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitUntil } from '../helpers/oauth-http.js';

const available = await redisAvailable();

const readyz = async (adminUrl: string) => (await (await fetch(`${adminUrl}/readyz`)).json()) as Record<string, any>;
const lines = (logs: string, msg: string) => logs.split('\n').filter((l) => l.includes(`"msg":"${msg}`)).length;
const DOWN = 'redis unreachable';
const UP = 'redis reachable again';

describe('Redis going away and coming back', () => {
  it.skipIf(!available)(
    'logs one warning when Redis goes and one when it returns, keeps serving logins, and /readyz says degraded ' +
      'meanwhile',
    async () => {
      const url = new URL(REDIS_URL);
      const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
      const prefix = `oauthd-test-${randomUUID()}`;
      const server = await startTestServer(
        { OAUTHD_REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
        { throttleKeyPrefix: prefix },
      );
      try {
        await seedSpecSample(server);
        await waitUntil(
          'redis connected',
          async () => (await readyz(server.adminUrl)).brute_force_counters?.status === 'shared',
          5000,
        );
        expect((await passwordGrant(server)).status).toBe(200);

        await proxy.cut();
        await waitUntil(
          'degraded',
          async () => (await readyz(server.adminUrl)).brute_force_counters?.status === 'degraded',
          10_000,
        );
        const degraded = await readyz(server.adminUrl);
        expect(degraded.status).toBe('ready');
        expect(degraded.brute_force_counters.detail).toMatch(/per instance/);
        // Logins go on, counted by this instance alone; ioredis keeps retrying meanwhile.
        for (let i = 0; i < 3; i++) expect((await passwordGrant(server)).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1500));
        expect(lines(server.logs(), DOWN)).toBe(1);
        expect(lines(server.logs(), UP)).toBe(0);

        await proxy.restore();
        await waitUntil(
          'shared again',
          async () => (await readyz(server.adminUrl)).brute_force_counters?.status === 'shared',
          15_000,
        );
        expect((await passwordGrant(server)).status).toBe(200);
        expect(lines(server.logs(), DOWN)).toBe(1);
        expect(lines(server.logs(), UP)).toBe(1);
        expect(server.logs()).not.toContain(SEED.password);
      } finally {
        await server.stop();
        await proxy.close();
        await deleteRedisKeys(prefix);
      }
    },
  );

  it('says the counters are local when no Redis is configured', async () => {
    const server = await startTestServer();
    try {
      expect((await readyz(server.adminUrl)).brute_force_counters).toEqual({ status: 'local' });
    } finally {
      await server.stop();
    }
  });
});
