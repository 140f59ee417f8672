/**
 * Brute-force defence on the password grant and on client authentication, over real HTTP.
 * RFC 6749 §4.3.2 ("MUST protect the endpoint against brute force attacks"), §10.10; RFC 6819
 * §4.4.3.6 (online guessing of passwords), §5.2.3.3 (limit attempts), §5.1.4.2.2 (client secrets).
 * Counters in memory (one instance) and in Redis (shared by instances).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deleteRedisKeys, redisAvailable, REDIS_URL } from '../helpers/redis.js';
import { SEED, basic, postToken, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

const ATTACKER = '198.51.100.66';
const USER_IP = '203.0.113.7';
const seedAuth = { authorization: basic(SEED.clientId, SEED.clientSecret) };

function login(
  server: TestServer,
  username: string,
  password: string,
  ip: string,
  headers: Record<string, string> = seedAuth,
) {
  return postToken(server, { grant_type: 'password', username, password }, { ...headers, 'x-forwarded-for': ip });
}

async function withServer(
  env: Record<string, string>,
  run: (server: TestServer) => Promise<void>,
  options: { throttleKeyPrefix?: string } = {},
) {
  const server = await startTestServer({ OAUTHD_TRUST_PROXY: '127.0.0.1', ...env }, options);
  try {
    await seedSpecSample(server);
    await server.services.admin.createUser('bob', 'bob-password');
    await run(server);
  } finally {
    await server.stop();
  }
}

const lockoutEnv = { OAUTHD_MAX_FAILURES_PER_USER_IP: '3', OAUTHD_BACKOFF_AFTER: '100', OAUTHD_LOCKOUT_SECONDS: '60' };

describe('lockout of a username from one IP', () => {
  it('refuses even the right password during the lockout with 429, Retry-After and slow_down', async () => {
    await withServer(lockoutEnv, async (server) => {
      for (let i = 0; i < 3; i++)
        expect((await login(server, SEED.username, 'wrong', ATTACKER)).json.error).toBe('invalid_grant');
      const locked = await login(server, SEED.username, SEED.password, ATTACKER);
      expect(locked.status).toBe(429);
      expect(locked.json).toEqual({
        error: 'slow_down',
        error_description: expect.stringMatching(/^Too many failed attempts\. Try again in \d+ seconds\.$/),
      });
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(locked.headers.get('cache-control')).toBe('no-store');
      // The wrong password gets exactly the same answer: no oracle.
      const wrong = await login(server, SEED.username, 'wrong-again', ATTACKER);
      expect(wrong.status).toBe(429);
      expect(wrong.json.error).toBe('slow_down');
      expect(server.logs()).toContain('lockout.started');
    });
  });

  it('does not lock out other users, nor the same user logging in from another IP', async () => {
    await withServer(lockoutEnv, async (server) => {
      for (let i = 0; i < 5; i++) await login(server, SEED.username, 'wrong', ATTACKER);
      expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);
      expect((await login(server, 'bob', 'bob-password', ATTACKER)).status).toBe(200);
      expect((await login(server, SEED.username, SEED.password, USER_IP)).status).toBe(200);
    });
  });

  it('starts counting again after a successful login', async () => {
    await withServer(lockoutEnv, async (server) => {
      for (let round = 0; round < 3; round++) {
        await login(server, SEED.username, 'wrong', USER_IP);
        await login(server, SEED.username, 'wrong', USER_IP);
        expect((await login(server, SEED.username, SEED.password, USER_IP)).status).toBe(200);
      }
    });
  });
});

describe('backoff before the lockout', () => {
  it('makes each attempt after the backoff threshold wait 1 s, then 2 s', async () => {
    await withServer({ OAUTHD_BACKOFF_AFTER: '2', OAUTHD_MAX_FAILURES_PER_USER_IP: '10' }, async (server) => {
      await login(server, SEED.username, 'wrong', ATTACKER);
      await login(server, SEED.username, 'wrong', ATTACKER); // 2nd failure: wait 1 s
      const early = await login(server, SEED.username, SEED.password, ATTACKER);
      expect(early.status).toBe(429);
      expect(early.headers.get('retry-after')).toBe('1');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await login(server, SEED.username, 'wrong', ATTACKER)).json.error).toBe('invalid_grant'); // 3rd: wait 2 s
      expect((await login(server, SEED.username, SEED.password, ATTACKER)).headers.get('retry-after')).toBe('2');
    });
  });
});

describe('per-IP limit', () => {
  it('locks an IP that fails across many usernames, and only that IP', async () => {
    await withServer({ OAUTHD_MAX_FAILURES_PER_IP: '4' }, async (server) => {
      for (let i = 0; i < 4; i++) await login(server, `nobody-${i}`, 'guess', ATTACKER);
      expect((await login(server, 'bob', 'bob-password', ATTACKER)).status).toBe(429);
      expect((await login(server, 'bob', 'bob-password', USER_IP)).status).toBe(200);
    });
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy, so forging it evades nothing', async () => {
    const server = await startTestServer({ OAUTHD_MAX_FAILURES_PER_USER_IP: '2', OAUTHD_BACKOFF_AFTER: '100' });
    try {
      await seedSpecSample(server);
      await login(server, SEED.username, 'wrong', '192.0.2.1');
      await login(server, SEED.username, 'wrong', '192.0.2.2');
      // Both failures counted against the real peer (127.0.0.1): locked whatever the header says.
      expect((await login(server, SEED.username, SEED.password, '192.0.2.3')).status).toBe(429);
    } finally {
      await server.stop();
    }
  });
});

describe('client authentication', () => {
  it(
    'locks a client id from an IP after repeated wrong secrets, ' + 'even for the right secret, and only from that IP',
    async () => {
      await withServer({ OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '3' }, async (server) => {
        for (let i = 0; i < 3; i++) {
          const r = await login(server, SEED.username, SEED.password, ATTACKER, {
            authorization: basic(SEED.clientId, `guess-${i}`),
          });
          expect(r.status).toBe(401);
        }
        const locked = await login(server, SEED.username, SEED.password, ATTACKER);
        expect(locked.status).toBe(429);
        expect(locked.json.error).toBe('slow_down');
        expect((await login(server, SEED.username, SEED.password, USER_IP)).status).toBe(200);
        expect(server.logs()).toContain('client_auth.failed');
      });
    },
  );
});

describe('counters shared through Redis', async () => {
  const available = await redisAvailable();

  it.skipIf(!available)('locks out on a second instance after failures on the first (same Redis)', async () => {
    const prefix = `oauthd-test-${randomUUID()}`;
    const env = { ...lockoutEnv, OAUTHD_REDIS_URL: REDIS_URL };
    const a = await startTestServer({ OAUTHD_TRUST_PROXY: '127.0.0.1', ...env }, { throttleKeyPrefix: prefix });
    const b = await startTestServer({ OAUTHD_TRUST_PROXY: '127.0.0.1', ...env }, { throttleKeyPrefix: prefix });
    try {
      await seedSpecSample(a);
      await seedSpecSample(b);
      for (let i = 0; i < 3; i++) expect((await login(a, SEED.username, 'wrong', ATTACKER)).status).toBe(400);
      expect((await login(b, SEED.username, SEED.password, ATTACKER)).status).toBe(429);
      expect((await login(b, SEED.username, SEED.password, USER_IP)).status).toBe(200);
    } finally {
      await a.stop();
      await b.stop();
      await deleteRedisKeys(prefix);
    }
  });

  it.skipIf(!available)(
    'keeps answering logins when Redis is unreachable (counting falls back to memory)',
    async () => {
      await withServer({ ...lockoutEnv, OAUTHD_REDIS_URL: 'redis://127.0.0.1:1' }, async (server) => {
        expect((await login(server, SEED.username, SEED.password, USER_IP)).status).toBe(200);
        for (let i = 0; i < 3; i++) await login(server, SEED.username, 'wrong', ATTACKER);
        expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);
      });
    },
  );
});
