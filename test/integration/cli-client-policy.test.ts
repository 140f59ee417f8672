/**
 * Per-client policy through the CLI (`oauthd client create|update|show`), and the bound within which a running
 * server honours a change made by another process: the CLI changes a policy field while an `oauthd serve`
 * process runs on the same store, and that server applies it within OAUTHD_CLIENT_CACHE_MS (1 s by default).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, within } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { SEED, TEST_STORE, basic, seedSpecSampleInto } from '../helpers/server.js';

let dir: string;
let database: TestDatabase | undefined;
let databaseUrl: string;
let server: ServerProcess;
const CACHE_MS = 1000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-policy-'));
  if (TEST_STORE === 'postgres') database = await createTestDatabase();
  databaseUrl = database ? database.url : `sqlite:${join(dir, 'oauthd.sqlite3')}`;
  await seedSpecSampleInto(databaseUrl);
  server = await spawnServer({
    OAUTHD_DATABASE_URL: databaseUrl,
    OAUTHD_CLIENT_CACHE_MS: String(CACHE_MS),
    OAUTHD_ACCESS_TOKEN_TTL: '3600',
  });
});

afterAll(async () => {
  const code = await server?.stop();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
});

const cli = (args: string[]) => runCli(databaseUrl, args);
const showJson = async (clientId: string) => {
  const shown = await cli(['client', 'show', clientId, '--json']);
  expect(shown.code).toBe(0);
  return JSON.parse(shown.stdout) as { policy: Record<string, unknown>; default_scopes: string[] | null };
};

async function login(): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(server.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
    },
    body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password: SEED.password }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('client create and update take the policy flags, client show prints them', () => {
  it('creates a client with a policy and shows it, as text and JSON', async () => {
    const created = await cli([
      'client',
      'create',
      '--name',
      'payouts',
      '--client-id',
      'payouts',
      '--scopes',
      'read write',
      '--default-scopes',
      'read',
      '--access-token-ttl',
      '600',
      '--refresh-token-ttl',
      '7776000',
      '--refresh-idle-ttl',
      '2592000',
      '--refresh-grace',
      '5',
      '--allowed-networks',
      '192.0.2.9/24,2001:DB8::/48',
      '--rate-limit',
      '600',
      '--password-grant-sunset',
      '2027-06-30',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const shown = await showJson('payouts');
    expect(shown.default_scopes).toEqual(['read']);
    expect(shown.policy).toMatchObject({
      access_token_ttl: 600,
      refresh_token_ttl: 7_776_000,
      refresh_idle_ttl: 2_592_000,
      refresh_grace: 5,
      allowed_networks: ['192.0.2.0/24', '2001:db8::/48'],
      rate_limit_per_minute: 600,
      password_grant_sunset: { date: '2027-06-30', revoke_grants: false },
    });
    const text = await cli(['client', 'show', 'payouts']);
    expect(text.stdout).toContain('allowed networks:  192.0.2.0/24, 2001:db8::/48');
    expect(text.stdout).toContain('access-token ttl:  600 s');
    expect(text.stdout).toContain('password sunset:   2027-06-30');
  });

  it('updates and clears policy fields (`default`, `any`, `none`)', async () => {
    const updated = await cli([
      'client',
      'update',
      'payouts',
      '--access-token-ttl',
      'default',
      '--allowed-networks',
      'any',
      '--password-grant-sunset',
      'none',
      '--rate-limit',
      '30',
      '--json',
    ]);
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout).policy).toMatchObject({
      access_token_ttl: null,
      allowed_networks: null,
      password_grant_sunset: null,
      rate_limit_per_minute: 30,
      refresh_grace: 5,
    });
    // The audit trail names the policy fields changed and their new values.
    const audited = await cli(['audit', '--json', '--client', 'payouts', '--event', 'client.updated']);
    expect(audited.code).toBe(0);
    const [event] = JSON.parse(audited.stdout) as Record<string, unknown>[];
    expect(event).toMatchObject({
      policy_changed: 'accessTokenTtlSeconds rateLimitPerMinute allowedNetworks passwordGrantSunset',
      access_token_ttl_seconds: null,
      allowed_networks: null,
      rate_limit_per_minute: 30,
      password_grant_sunset_at: null,
    });
  });

  it.each([
    ['--allowed-networks', '10.0.0.0/33'],
    ['--allowed-networks', '192.0.2.0/24,example.com'],
    ['--access-token-ttl', '0'],
    ['--refresh-idle-ttl', '1.5'],
    ['--refresh-token-ttl', 'ten'],
    ['--rate-limit', '-1'],
    ['--password-grant-sunset', '2027-02-30'],
    ['--password-grant-sunset', 'tomorrow'],
  ])('refuses %s %s on create and update: one line on stderr, non-zero, nothing changed', async (flag, value) => {
    const before = await showJson('payouts');
    const update = await cli(['client', 'update', 'payouts', '--name', 'renamed', flag, value]);
    expect(update.code).not.toBe(0);
    expect(update.stderr.trim().split('\n')).toHaveLength(1);
    expect(update.stderr).toContain(flag);
    expect(update.stdout).toBe('');
    expect(await showJson('payouts')).toEqual(before);

    const create = await cli(['client', 'create', '--name', 'bad', '--client-id', 'bad-one', flag, value]);
    expect(create.code).not.toBe(0);
    expect(create.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli(['client', 'show', 'bad-one'])).code).not.toBe(0);
  });

  it('with --revoke-password-grants and a past sunset date, revokes the password grants at once', async () => {
    const issued = await login();
    expect(issued.status).toBe(200);
    const set = await cli([
      'client',
      'update',
      SEED.clientId,
      '--password-grant-sunset',
      '2020-01-01',
      '--revoke-password-grants',
      '--json',
    ]);
    expect(set.stderr).toBe('');
    const answer = JSON.parse(set.stdout);
    expect(answer.revoked_password_grants).toBeGreaterThanOrEqual(1);
    expect(answer.policy.password_grant_sunset).toMatchObject({ date: '2020-01-01', revoke_grants: true });
    const cleared = await cli(['client', 'update', SEED.clientId, '--password-grant-sunset', 'none']);
    expect(cleared.code).toBe(0);
  });
});

describe('a change made by the CLI, seen by a running server process', () => {
  it(`applies a new access-token lifetime within the client cache bound (${CACHE_MS} ms)`, async () => {
    expect((await login()).json.expires_in).toBe(3600);
    const changed = await cli(['client', 'update', SEED.clientId, '--access-token-ttl', '77']);
    expect(changed.code).toBe(0);
    const changedAt = Date.now();
    // Until then the old policy may still answer; never anything else.
    const tookMs = await within(CACHE_MS + 1500, async () => {
      const { status, json } = await login();
      expect(status).toBe(200);
      expect([3600, 77]).toContain(json.expires_in);
      return json.expires_in === 77;
    });
    expect(Date.now() - changedAt).toBeLessThan(CACHE_MS + 1500);
    expect(tookMs).toBeLessThanOrEqual(CACHE_MS + 500);
  });
});

describe('the rate limit across workers', () => {
  it('is one count for every worker of `serve --workers 2` (kept in the primary)', async () => {
    const created = await cli([
      'client',
      'create',
      '--name',
      'limited',
      '--client-id',
      'limited',
      '--client-secret',
      'limited-secret',
      '--rate-limit',
      '4',
    ]);
    expect(created.code).toBe(0);
    const workers = await spawnServer({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_WORKERS: '2' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await fetch(workers.tokenUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic('limited', 'limited-secret'),
            connection: 'close', // a new connection each time: the primary hands them to both workers
          },
          body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password: SEED.password }),
        });
        statuses.push(response.status);
        if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    } finally {
      expect(await workers.stop()).toBe(0);
    }
  });
});
