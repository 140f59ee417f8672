/**
 * `oauthd lockout list` and `oauthd lockout clear`, as an operator runs them: the built CLI (another
 * process) against the database of a real server, which is driven over real HTTP (SQLite, or PostgreSQL
 * with OAUTHD_TEST_STORE=postgres), its brute-force counters in memory or in Redis.
 *
 * RFC 6749 §4.3.2 and RFC 6819 §5.2.3.3 ask for brute-force limits; a lockout also stops the rightful user,
 * so an operator must be able to see it and end it early. The server records a lockout when it starts and
 * picks up a clear from the store within a second (throttle/lockout-sync.ts).
 *
 * When running this file alone, run `npm run build` first.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, within } from '../helpers/cli.js';
import { CLI, spawnServer } from '../helpers/process.js';
import { deleteRedisKeys, redisAvailable, REDIS_URL } from '../helpers/redis.js';
import {
  SEED,
  basic,
  postToken,
  seedSpecSample,
  startTestServer,
  type TestServer,
  seedSpecSampleInto,
} from '../helpers/server.js';

const ATTACKER = '198.51.100.66';
const ELSEWHERE = '203.0.113.7';
const seedAuth = { authorization: basic(SEED.clientId, SEED.clientSecret) };
const ACTOR = `cli:${userInfo().username}`;
/** The poll runs every second; a clear must take effect within this bound (one poll, a CLI start, margin). */
const BOUND_MS = 2500;

const lockoutEnv = {
  OAUTHD_TRUST_PROXY: '127.0.0.1',
  OAUTHD_MAX_FAILURES_PER_USER_IP: '3',
  OAUTHD_BACKOFF_AFTER: '100',
  OAUTHD_MAX_FAILURES_PER_IP: '6',
  OAUTHD_LOCKOUT_SECONDS: '600',
};

function login(server: TestServer, username: string, password: string, ip: string) {
  return postToken(server, { grant_type: 'password', username, password }, { ...seedAuth, 'x-forwarded-for': ip });
}

async function cliOk(server: TestServer, args: string[]) {
  const result = await runCli(server.config.store.databaseUrl, args);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

const listed = async (server: TestServer) =>
  JSON.parse(await cliOk(server, ['lockout', 'list', '--json'])) as Record<string, unknown>[];

async function withServer(
  run: (server: TestServer) => Promise<void>,
  env: Record<string, string> = {},
  options: { throttleKeyPrefix?: string } = {},
) {
  const server = await startTestServer({ ...lockoutEnv, ...env }, options);
  try {
    await seedSpecSample(server);
    await run(server);
  } finally {
    await server.stop();
  }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

async function userLockoutIsClearedByTheCli(server: TestServer) {
  for (let i = 0; i < 3; i++) expect((await login(server, SEED.username, 'wrong', ATTACKER)).status).toBe(400);
  expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);

  const lockouts = await listed(server);
  expect(lockouts).toEqual([
    {
      subject: 'user_ip',
      username: SEED.username,
      client_id: null,
      ip: ATTACKER,
      started_at: expect.any(String),
      until: expect.any(String),
    },
  ]);
  expect(Date.parse(lockouts[0]!.until as string) - Date.parse(lockouts[0]!.started_at as string)).toBe(600_000);

  const cleared = await cliOk(server, ['lockout', 'clear', '--user', SEED.username]);
  expect(cleared).toMatch(/^cleared 1 lockout\(s\) of user paymob_send_api_checker/);
  const took = await within(
    BOUND_MS,
    async () => (await login(server, SEED.username, SEED.password, ATTACKER)).status === 200,
  );
  expect(took).toBeLessThan(BOUND_MS);
  expect(await listed(server)).toEqual([]);

  // The counter starts again from zero: one more wrong password is not a lockout.
  expect((await login(server, SEED.username, 'wrong', ATTACKER)).status).toBe(400);
  expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(200);

  await server.services.audit.flush();
  const events = await server.services.store.queryAuditEvents({ event: 'lockout.cleared', limit: 10 });
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ username: SEED.username, ip: ATTACKER });
  expect(JSON.parse(events[0]!.detail)).toMatchObject({ actor: ACTOR, subject: 'user_ip' });
}

describe('oauthd lockout (counters in memory)', () => {
  it(
    'lists a user locked out from one IP over HTTP, and after lockout clear --user the right password gets 200 ' +
      'within the bound',
    async () => {
      await withServer(userLockoutIsClearedByTheCli);
    },
  );

  it(
    'after lockout clear --ip, an IP locked out by guesses at ' + 'many usernames is let in again within the bound',
    async () => {
      await withServer(async (server) => {
        for (let i = 0; i < 6; i++) expect((await login(server, `nobody-${i}`, 'wrong', ATTACKER)).status).toBe(400);
        expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);
        expect((await login(server, SEED.username, SEED.password, ELSEWHERE)).status).toBe(200);
        expect((await listed(server)).map((l) => [l.subject, l.ip])).toEqual([['ip', ATTACKER]]);

        // A clear of another IP or of the user changes nothing.
        expect(await cliOk(server, ['lockout', 'clear', '--ip', ELSEWHERE])).toMatch(
          /^no lockout in force for ip 203\.0\.113\.7/,
        );
        expect(await cliOk(server, ['lockout', 'clear', '--user', SEED.username])).toMatch(/^no lockout in force/);
        await new Promise((r) => setTimeout(r, 1500));
        expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);

        const cleared = JSON.parse(await cliOk(server, ['lockout', 'clear', '--ip', ATTACKER, '--json'])) as {
          cleared: number;
        };
        expect(cleared.cleared).toBe(1);
        await within(
          BOUND_MS,
          async () => (await login(server, SEED.username, SEED.password, ATTACKER)).status === 200,
        );
      });
    },
  );

  it('lockout clear --ip with any address of an IPv6 /64 ends the lockout of that /64', async () => {
    await withServer(async (server) => {
      for (let i = 0; i < 3; i++) await login(server, SEED.username, 'wrong', '2001:db8:1:2::5');
      expect((await login(server, SEED.username, SEED.password, '2001:db8:1:2:aaaa::1')).status).toBe(429);
      expect((await listed(server)).map((l) => [l.subject, l.ip])).toEqual([['user_ip', '2001:db8:1:2::/64']]);
      expect(await cliOk(server, ['lockout', 'clear', '--ip', '2001:db8:1:2:ffff::99'])).toMatch(
        /^cleared 1 lockout\(s\) of ip 2001:db8:1:2::\/64/,
      );
      await within(
        BOUND_MS,
        async () => (await login(server, SEED.username, SEED.password, '2001:db8:1:2::5')).status === 200,
      );
    });
  });

  it(
    'refuses lockout clear without exactly one of --user and ' + '--ip, or with a malformed IP, in one stderr line',
    async () => {
      await withServer(async (server) => {
        for (const args of [
          [],
          ['--user', 'a', '--ip', '192.0.2.1'],
          ['--ip', 'not-an-ip'],
          ['--ip', '2001:db8::/48'],
        ]) {
          const result = await runCli(server.config.store.databaseUrl, ['lockout', 'clear', ...args]);
          expect(result.code).toBe(1);
          expect(result.stdout).toBe('');
          expect(result.stderr.trim().split('\n')).toHaveLength(1);
          expect(result.stderr).toMatch(/^oauthd: (give either --user or --ip|--ip takes an IP address)/);
        }
      });
    },
  );

  it('a client locked out from one IP for wrong secrets is listed and cleared by --ip', async () => {
    await withServer(
      async (server) => {
        const wrongAuth = { authorization: basic(SEED.clientId, 'wrong-secret'), 'x-forwarded-for': ATTACKER };
        for (let i = 0; i < 3; i++)
          expect(
            (await postToken(server, { grant_type: 'password', username: 'x', password: 'y' }, wrongAuth)).status,
          ).toBe(401);
        expect((await login(server, SEED.username, SEED.password, ATTACKER)).status).toBe(429);
        expect((await listed(server)).map((l) => [l.subject, l.client_id, l.ip])).toEqual([
          ['client_ip', SEED.clientId, ATTACKER],
        ]);
        await cliOk(server, ['lockout', 'clear', '--ip', ATTACKER]);
        await within(
          BOUND_MS,
          async () => (await login(server, SEED.username, SEED.password, ATTACKER)).status === 200,
        );
      },
      { OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '3' },
    );
  });
});

describe('oauthd lockout (counters in Redis)', async () => {
  const available = await redisAvailable();
  const prefix = `oauthd-test-${randomUUID()}`;
  afterAll(async () => {
    if (available) await deleteRedisKeys(prefix);
  });

  it.skipIf(!available)(
    'lists a user locked out in the shared counters, and lockout clear --user lets the right password in ' +
      'within the bound',
    async () => {
      await withServer(userLockoutIsClearedByTheCli, { OAUTHD_REDIS_URL: REDIS_URL }, { throttleKeyPrefix: prefix });
    },
  );
});

describe('oauthd lockout (oauthd serve --workers 2: counters in the cluster primary)', () => {
  it('lockout clear --user lets the right password in within the bound, whichever worker answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauthd-lockout-'));
    const databaseUrl = `sqlite:${join(dir, 'db.sqlite3')}`;
    await seedSpecSampleInto(databaseUrl);
    const server = await spawnServer({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_WORKERS: '2', ...lockoutEnv });
    const attempt = async (password: string) => {
      const response = await fetch(`${server.url}/o/token/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...seedAuth,
          'x-forwarded-for': ATTACKER,
          connection: 'close',
        },
        body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    try {
      for (let i = 0; i < 3; i++) expect(await attempt('wrong')).toBe(400);
      for (let i = 0; i < 4; i++) expect(await attempt(SEED.password)).toBe(429);
      const cli = async (args: string[]) => {
        const result = await runCli(databaseUrl, args);
        expect(result.stderr).toBe('');
        return result.stdout;
      };
      expect((JSON.parse(await cli(['lockout', 'list', '--json'])) as unknown[]).length).toBe(1);
      await cli(['lockout', 'clear', '--user', SEED.username]);
      await within(BOUND_MS, async () => (await attempt(SEED.password)) === 200);
      // Every worker sees the cleared counters: they live in the primary.
      for (let i = 0; i < 4; i++) expect(await attempt(SEED.password)).toBe(200);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
