/**
 * Brute-force limits under concurrency, over real sockets. RFC 6749 §4.3.2 ("MUST protect the endpoint
 * against brute force attacks"), §10.10; RFC 6819 §4.4.3.6, §5.2.3.3 (limit attempts), §5.1.4.2.2 (client
 * secrets). Every attempt is counted before its secret is verified, so a burst cannot pass the check before
 * its first failure is counted: in memory, in Redis, and across `--workers 2` without Redis.
 *
 * The attacker is 127.0.0.1 and the user 127.0.0.2: two real source addresses (sockets bound to them), no
 * X-Forwarded-For, so nothing here depends on trusting a header.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postFormFrom, type FormAnswer } from '../helpers/from-address.js';
import { spawnServer } from '../helpers/process.js';
import { deleteRedisKeys, redisAvailable, REDIS_URL } from '../helpers/redis.js';
import {
  SEED,
  basic,
  seedSpecSample,
  startTestServer,
  type TestServer,
  seedSpecSampleInto,
} from '../helpers/server.js';

const ATTACKER = '127.0.0.1';
const USER = '127.0.0.2';

/** The defaults of docs/configuration.md, set explicitly (the test helper lifts the limits otherwise). */
const DEFAULT_LIMITS = {
  OAUTHD_MAX_FAILURES_PER_IP: '100',
  OAUTHD_MAX_FAILURES_PER_USER: '100',
  OAUTHD_MAX_FAILURES_PER_USER_IP: '10',
  OAUTHD_BACKOFF_AFTER: '3',
  OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '20',
};

const login = (tokenUrl: string, from: string, password: string, secret: string = SEED.clientSecret) =>
  postFormFrom(
    tokenUrl,
    from,
    { grant_type: 'password', username: SEED.username, password },
    basic(SEED.clientId, secret),
  );

/** Sends `n` attempts at once; spreads them over the given token URLs (several instances). */
function burst(
  n: number,
  urls: string[],
  attempt: (url: string, i: number) => Promise<FormAnswer>,
): Promise<FormAnswer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => attempt(urls[i % urls.length]!, i)));
}

function tally(answers: FormAnswer[]) {
  const count = (status: number) => answers.filter((a) => a.status === status).length;
  return {
    verified400: count(400),
    verified401: count(401),
    refused: count(429),
    other: answers.filter((a) => ![400, 401, 429].includes(a.status)).length,
  };
}

function expectRefusalsCarryRetryAfter(answers: FormAnswer[]) {
  for (const a of answers.filter((x) => x.status === 429)) {
    expect(a.json.error).toBe('slow_down');
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    const unit = a.retryAfter === '1' ? 'second' : 'seconds';
    expect(a.json.error_description).toBe(`Too many failed attempts. Try again in ${a.retryAfter} ${unit}.`);
  }
}

/** Two instances on one store sharing Redis counters, or one instance counting in memory. */
async function withInstances(
  backend: 'memory' | 'redis',
  env: Record<string, string>,
  run: (urls: string[], first: TestServer) => Promise<void>,
) {
  const prefix = `oauthd-test-${randomUUID()}`;
  const shared: Record<string, string> = backend === 'redis' ? { OAUTHD_REDIS_URL: REDIS_URL } : {};
  const a = await startTestServer({ ...DEFAULT_LIMITS, ...shared, ...env }, { throttleKeyPrefix: prefix });
  const servers = [a];
  try {
    await seedSpecSample(a);
    if (backend === 'redis' && a.config.store.databaseUrl.startsWith('sqlite:')) {
      // A second instance on the same SQLite file, counting in the same Redis.
      servers.push(
        await startTestServer(
          { ...DEFAULT_LIMITS, ...shared, ...env, OAUTHD_DATABASE_URL: a.config.store.databaseUrl },
          { throttleKeyPrefix: prefix },
        ),
      );
    }
    // The client's chosen secret verifies once (argon2id), so the burst below meets it cached, as a busy
    // integrator's requests would.
    expect((await login(`${a.oauthUrl}/token/`, USER, SEED.password)).status).toBe(200);
    await run(
      servers.map((s) => `${s.oauthUrl}/token/`),
      a,
    );
  } finally {
    for (const s of servers.reverse()) await s.stop();
    if (backend === 'redis') await deleteRedisKeys(prefix);
  }
}

const redisUp = await redisAvailable();

describe.each(['memory', 'redis'] as const)('brute-force limits under concurrency, counters in %s', (backend) => {
  const skip = backend === 'redis' && !redisUp;

  it.skipIf(skip)(
    'lets at most 10 of 60 concurrent wrong passwords from one IP be verified, refuses the rest with 429 and ' +
      'Retry-After, and lets the right password in from another IP',
    async () => {
      await withInstances(backend, {}, async (urls) => {
        const answers = await burst(60, urls, (url, i) => login(url, ATTACKER, `wrong-${i}`));
        const t = tally(answers);
        console.log(
          `${backend}: 60 concurrent wrong passwords → ${t.verified400} verified (400), ${t.refused} refused ` +
            `(429), ${t.other} other`,
        );
        expect(t.other).toBe(0);
        expect(t.verified400).toBeGreaterThan(0);
        expect(t.verified400).toBeLessThanOrEqual(10);
        expect(t.verified400 + t.refused).toBe(60);
        expectRefusalsCarryRetryAfter(answers);
        // The attacker's lockout is per (user, IP): the user logs in from elsewhere.
        expect((await login(urls[0]!, USER, SEED.password)).status).toBe(200);
        expect((await login(urls[0]!, ATTACKER, SEED.password)).status).toBe(429);
      });
    },
  );

  it.skipIf(skip)(
    'serves 30 concurrent right passwords for one user from one IP: attempts beyond the limit wait for those ' +
      'being verified instead of being refused',
    async () => {
      await withInstances(backend, {}, async (urls) => {
        const answers = await burst(30, urls, (url) => login(url, ATTACKER, SEED.password));
        expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      });
    },
  );

  it.skipIf(skip)(
    'never lets 105 concurrent wrong passwords from one IP lock the user out from another IP',
    async () => {
      await withInstances(backend, {}, async (urls) => {
        const answers = await burst(105, urls, (url, i) => login(url, ATTACKER, `wrong-${i}`));
        expect(tally(answers).verified400).toBeLessThanOrEqual(10);
        expect((await login(urls[0]!, USER, SEED.password)).status).toBe(200);
      });
    },
  );

  it.skipIf(skip)(
    'lets one IP add at most the per-(user, IP) limit to the cross-IP counter, however many lockouts it sits out',
    async () => {
      // Per pair 3, per user 5, lockouts of 1 s: without the cap, the second round from the attacker would
      // bring the user's counter to 6 and lock the user out everywhere.
      const env = {
        OAUTHD_MAX_FAILURES_PER_USER_IP: '3',
        OAUTHD_MAX_FAILURES_PER_USER: '5',
        OAUTHD_BACKOFF_AFTER: '100',
        OAUTHD_LOCKOUT_SECONDS: '1',
      };
      await withInstances(backend, env, async (urls) => {
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 3; i++) expect((await login(urls[0]!, ATTACKER, `wrong-${round}-${i}`)).status).toBe(400);
          expect((await login(urls[0]!, ATTACKER, 'wrong-locked')).status).toBe(429);
          await new Promise((r) => setTimeout(r, 1100));
        }
        expect((await login(urls[0]!, USER, SEED.password)).status).toBe(200);
      });
    },
  );

  it.skipIf(skip)(
    'lets at most 20 of 25 concurrent wrong client secrets (argon2id) from one IP be verified, and the right ' +
      'secret in from another IP',
    async () => {
      await withInstances(backend, {}, async (urls) => {
        const answers = await burst(25, urls, (url, i) => login(url, ATTACKER, SEED.password, `wrong-secret-${i}`));
        const t = tally(answers);
        console.log(
          `${backend}: 25 concurrent wrong client secrets → ${t.verified401} verified (401), ${t.refused} ` +
            `refused (429), ${t.other} other`,
        );
        expect(t.other + t.verified400).toBe(0);
        expect(t.verified401).toBeGreaterThan(0);
        expect(t.verified401).toBeLessThanOrEqual(20);
        expect(t.verified401 + t.refused).toBe(25);
        expectRefusalsCarryRetryAfter(answers);
        expect((await login(urls[0]!, USER, SEED.password)).status).toBe(200);
        expect((await login(urls[0]!, ATTACKER, SEED.password)).status).toBe(429);
      });
    },
  );

  it.skipIf(skip)(
    'lets at most 20 of 40 concurrent wrong generated client secrets through, while 40 concurrent right ones ' +
      'are all served',
    async () => {
      await withInstances(backend, {}, async (urls, first) => {
        const created = await first.services.admin.createClient({ name: 'generated' });
        const clientId = created.client.clientId;
        const secret = created.clientSecret!;
        const introspect = (url: string, from: string, s: string) =>
          postFormFrom(url.replace(/token\/$/, 'introspect/'), from, { token: 'not-a-token' }, basic(clientId, s));
        // Right secrets hold no capacity: a busy integrator's concurrent calls are never refused.
        const right = await burst(40, urls, (url) => introspect(url, ATTACKER, secret));
        expect(right.map((a) => a.status)).toEqual(Array(40).fill(200));
        const wrong = await burst(40, urls, (url, i) => introspect(url, ATTACKER, `${secret.slice(0, -4)}x${i}`));
        const t = tally(wrong);
        expect(t.verified401).toBeGreaterThan(0);
        expect(t.verified401).toBeLessThanOrEqual(20);
        expect(t.verified401 + t.refused).toBe(40);
        expect((await introspect(urls[0]!, USER, secret)).status).toBe(200);
        expect((await introspect(urls[0]!, ATTACKER, secret)).status).toBe(429);
      });
    },
  );
});

describe('brute-force limits across --workers 2 without Redis', () => {
  it(
    'shares the counters between the workers: at most 10 of 60 concurrent wrong passwords are verified, and the ' +
      'user still logs in from another IP',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'oauthd-workers-throttle-'));
      const databaseUrl = `sqlite:${join(dir, 'db.sqlite3')}`;
      await seedSpecSampleInto(databaseUrl);
      const server = await spawnServer({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_WORKERS: '2', ...DEFAULT_LIMITS });
      try {
        const tokenUrl = `${server.url}/o/token/`;
        // Each worker verifies the chosen client secret once.
        await burst(4, [tokenUrl], () => login(tokenUrl, USER, SEED.password));
        const answers = await burst(60, [tokenUrl], (url, i) => login(url, ATTACKER, `wrong-${i}`));
        const t = tally(answers);
        console.log(
          `--workers 2: 60 concurrent wrong passwords → ${t.verified400} verified (400), ${t.refused} refused ` +
            `(429), ${t.other} other`,
        );
        expect(t.other).toBe(0);
        expect(t.verified400).toBeGreaterThan(0);
        expect(t.verified400).toBeLessThanOrEqual(10);
        expectRefusalsCarryRetryAfter(answers);
        expect((await login(tokenUrl, USER, SEED.password)).status).toBe(200);
      } finally {
        expect(await server.stop()).toBe(0);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('what counts as one attempt', () => {
  it('counts IPv6 clients by their /64: failures from one address lock its neighbours, not another /64', async () => {
    const server = await startTestServer({
      ...DEFAULT_LIMITS,
      OAUTHD_TRUST_PROXY: '127.0.0.1',
      OAUTHD_MAX_FAILURES_PER_USER_IP: '3',
      OAUTHD_BACKOFF_AFTER: '100',
    });
    try {
      await seedSpecSample(server);
      const from = async (ip: string, password: string) => {
        const response = await fetch(`${server.oauthUrl}/token/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic(SEED.clientId, SEED.clientSecret),
            'x-forwarded-for': ip,
          },
          body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password }),
        });
        return response.status;
      };
      for (const ip of ['2001:db8:1:2::a', '2001:db8:1:2:ffff::1', '2001:0db8:0001:0002:0000:0000:0000:00ff'])
        expect(await from(ip, 'wrong')).toBe(400);
      expect(await from('2001:db8:1:2::b', SEED.password)).toBe(429);
      expect(await from('2001:db8:1:3::a', SEED.password)).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('counts a Basic secret tried both form-decoded and raw as two attempts', async () => {
    const server = await startTestServer({ ...DEFAULT_LIMITS, OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '4' });
    try {
      await seedSpecSample(server);
      const tokenUrl = `${server.oauthUrl}/token/`;
      // "a%41b" decodes to "aAb": two different secrets are tried for each request.
      expect((await login(tokenUrl, ATTACKER, SEED.password, 'wrong%41one')).status).toBe(401);
      expect((await login(tokenUrl, ATTACKER, SEED.password, 'wrong%41two')).status).toBe(401);
      // Four secrets tried: the pair is locked, the right secret included.
      expect((await login(tokenUrl, ATTACKER, SEED.password)).status).toBe(429);
      expect((await login(tokenUrl, USER, SEED.password)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
