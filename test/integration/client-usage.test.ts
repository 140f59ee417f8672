/**
 * Usage per client and grant type: counted in memory by the server (every answered token request of an
 * authenticated client, any outcome), added to the store every OAUTHD_USAGE_FLUSH_SECONDS and at shutdown, never
 * once per request; read by `oauthd client usage` and `oauthd report password-grant` in another process, and
 * exported as `oauthd_client_token_requests_total{client_id,grant_type}`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { runCli, within } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import {
  SEED,
  TEST_STORE,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  seedSpecSampleInto,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const OTHER = { clientId: 'small-integrator', clientSecret: 'a-chosen-secret-of-the-small-integrator' };
const JUNE_30_2027 = 1_814_313_600;

let server: TestServer | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await cleanup?.();
  cleanup = undefined;
});

async function usageRows(databaseUrl: string) {
  const store = openStore(databaseUrl);
  try {
    return await store.listClientUsage({ sinceDay: 0 });
  } finally {
    await store.close();
  }
}

async function metric(target: TestServer, line: string): Promise<number> {
  const text = await (await fetch(`${target.adminUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.split(' ').pop());
}

const today = () => new Date().toISOString().slice(0, 10);

describe('counting token requests per client and grant type', () => {
  it(
    'counts every answer to an authenticated client, not an unauthenticated request, flushes it, and shows it ' +
      'in `oauthd client usage`, `oauthd report password-grant` and Prometheus',
    async () => {
      server = await startTestServer({ OAUTHD_USAGE_FLUSH_SECONDS: '1', OAUTHD_CLIENT_CACHE_MS: '0' });
      await seedSpecSample(server);
      await server.services.admin.createClient({ name: 'Small integrator', ...OTHER });
      const databaseUrl = server.config.store.databaseUrl;

      const first = await passwordGrant(server);
      expect(first.status).toBe(200);
      expect((await passwordGrant(server)).status).toBe(200);
      expect((await passwordGrant(server, { password: 'wrong' })).status).toBe(400); // counted: authenticated
      expect((await refreshGrant(server, String(first.json.refresh_token))).status).toBe(200);
      const unauthenticated = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password },
        { authorization: basic(SEED.clientId, 'wrong secret') },
      );
      expect(unauthenticated.status).toBe(401); // not counted: no client
      const other = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password },
        { authorization: basic(OTHER.clientId, OTHER.clientSecret) },
      );
      expect(other.status).toBe(200);
      await server.services.store.updateClient(
        OTHER.clientId,
        { policy: { passwordGrantSunset: { at: JUNE_30_2027, announcedAt: 1_796_083_200, revokeGrants: true } } },
        server.services.clock.now(),
      );

      const label = (client: string, grant: string) =>
        `oauthd_client_token_requests_total{client_id="${client}",grant_type="${grant}"}`;
      expect(await metric(server, label(SEED.clientId, 'password'))).toBe(3);
      expect(await metric(server, label(SEED.clientId, 'refresh_token'))).toBe(1);
      expect(await metric(server, label(OTHER.clientId, 'password'))).toBe(1);

      await within(10_000, async () => (await usageRows(databaseUrl)).length === 3);

      const usage = await runCli(databaseUrl, ['client', 'usage', SEED.clientId, '--json']);
      expect(usage.stderr).toBe('');
      expect(usage.code).toBe(0);
      const view = JSON.parse(usage.stdout) as {
        client_id: string;
        grants: { grant_type: string; last_used_at: string; requests_30d: number; per_day: unknown[] }[];
      };
      expect(view.client_id).toBe(SEED.clientId);
      expect(view.grants.map((g) => [g.grant_type, g.requests_30d])).toEqual([
        ['password', 3],
        ['refresh_token', 1],
      ]);
      expect(view.grants[0]!.per_day).toEqual([{ day: today(), requests: 3 }]);
      expect(view.grants[0]!.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      const text = await runCli(databaseUrl, ['client', 'usage', SEED.clientId]);
      expect(text.stdout).toMatch(/password\s+last used \S+\s+3 in the last 30 days/);

      const report = await runCli(databaseUrl, ['report', 'password-grant', '--json']);
      expect(report.code).toBe(0);
      expect(JSON.parse(report.stdout)).toMatchObject([
        { client_id: SEED.clientId, requests_30d: 3, sunset: null, enforced: false },
        { client_id: OTHER.clientId, requests_30d: 1, sunset: '2027-06-30', enforced: false, revoke_grants: true },
      ]);
      const reportText = await runCli(databaseUrl, ['report', 'password-grant']);
      const lines = reportText.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^CLIENT_ID\s+REQUESTS_30D\s+LAST_USED\s+SUNSET\s+NAME$/);
      expect(lines[1]).toMatch(new RegExp(`^${SEED.clientId}\\s+3\\s`));
      expect(lines[2]).toMatch(/^small-integrator\s+1\s+\S+\s+2027-06-30 \+revoke\s+Small integrator$/);
    },
  );

  it('refuses `oauthd client usage` for an unknown client with one line and a non-zero exit', async () => {
    server = await startTestServer();
    const result = await runCli(server.config.store.databaseUrl, ['client', 'usage', 'no-such-client']);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no-such-client/);
  });
});

/** A fresh, seeded database on the store under test, dropped after the test. */
async function seededDatabase(): Promise<string> {
  let databaseUrl: string;
  if (TEST_STORE === 'postgres') {
    const database = await createTestDatabase();
    databaseUrl = database.url;
    cleanup = () => database.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'oauthd-usage-'));
    databaseUrl = `sqlite:${join(dir, 'db.sqlite3')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  await seedSpecSampleInto(databaseUrl);
  return databaseUrl;
}

/** `count` password grants of the seed client, each on its own connection (spread over the workers). */
async function passwordGrants(running: ServerProcess, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(running.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
        connection: 'close',
      },
      body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password: SEED.password }),
    });
    expect(response.status).toBe(200);
  }
}

describe('a server process', () => {
  it('writes no usage per request, and adds what it counted when it shuts down', async () => {
    const databaseUrl = await seededDatabase();
    const running = await spawnServer({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_USAGE_FLUSH_SECONDS: '3600' });
    try {
      await passwordGrants(running, 5);
      expect(await usageRows(databaseUrl)).toEqual([]);
    } finally {
      expect(await running.stop()).toBe(0);
    }
    const report = await runCli(databaseUrl, ['report', 'password-grant', '--json']);
    expect(JSON.parse(report.stdout)).toMatchObject([{ client_id: SEED.clientId, requests_30d: 5 }]);
  });

  it('with --workers 2, adds up what each worker counted and flushed', async () => {
    const databaseUrl = await seededDatabase();
    const running = await spawnServer(
      { OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_USAGE_FLUSH_SECONDS: '1', OAUTHD_WORKERS: '2' },
      [],
    );
    try {
      await passwordGrants(running, 12);
      const total = async () =>
        (await usageRows(databaseUrl)).reduce((sum, row) => sum + Number(row.requests), 0) === 12;
      await within(10_000, total);
      const metrics = await (await fetch(`${running.adminUrl}/metrics`)).text();
      expect(metrics).toContain(
        `oauthd_client_token_requests_total{client_id="${SEED.clientId}",grant_type="password"} 12`,
      );
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });
});
