/**
 * Lifecycle: dead tokens are removed online by the server itself, in small batches, and by `oauthd cleanup`
 * on demand, on both stores, so a store under heavy churn stays at a bounded size; live tokens are never
 * touched; used refresh tokens are kept for the retention period so reuse is still detected (RFC 9700
 * §4.14.2). /readyz reports the database (in detail on the admin listener), /healthz the process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/process.js';
import {
  passwordGrant,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  userinfo,
  type TestServer,
} from '../helpers/server.js';
import { tokenRowCounts } from '../helpers/store-dump.js';

const run = promisify(execFile);
const DAY = 86_400;
let server: TestServer;
const clock = testClock();

beforeAll(async () => {
  server = await startTestServer(
    { OAUTHD_CLEANUP_INTERVAL_SECONDS: '1', OAUTHD_TOKEN_RETENTION_SECONDS: String(7 * DAY) },
    { clock },
  );
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

/** A login, then `rounds` refreshes along its chain (or along the chain of `from`). */
async function churn(rounds: number, from?: string): Promise<{ access: string; refresh: string }> {
  let json = from === undefined ? (await passwordGrant(server)).json : { refresh_token: from, access_token: '' };
  for (let i = 0; i < rounds; i++) json = (await refreshGrant(server, json.refresh_token as string)).json;
  return { access: json.access_token as string, refresh: json.refresh_token as string };
}

async function waitFor(check: () => Promise<boolean>, ms = 6000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('online cleanup', () => {
  it('keeps a store with heavy churn at a bounded size, and never touches live tokens', async () => {
    const sizes: number[] = [];
    let live = await churn(0);
    for (let day = 0; day < 4; day++) {
      live = await churn(25, live.refresh); // a day of refreshes along one chain: 25 rotations
      clock.advance(8 * DAY); // past the retention of everything used today, and every access token's expiry
      await waitFor(async () => (await tokenRowCounts(server)).refresh <= 1);
      const counts = await tokenRowCounts(server);
      sizes.push(counts.access + counts.refresh);
      // The newest refresh token of the chain is unused: never removed, and it still works.
      const next = await refreshGrant(server, live.refresh);
      expect(next.status).toBe(200);
      live = { access: next.json.access_token as string, refresh: next.json.refresh_token as string };
    }
    // Each day 25 pairs were written; what remains each time is the chain's one live refresh token.
    expect(sizes).toEqual([1, 1, 1, 1]);
    expect(server.logs()).toContain('cleanup removed dead tokens');
  });

  it('keeps used refresh tokens for the retention period, so a replay is still caught as reuse', async () => {
    const { json } = await passwordGrant(server);
    const second = await refreshGrant(server, json.refresh_token as string);
    clock.advance(6 * DAY); // within the 7-day retention
    await new Promise((r) => setTimeout(r, 1500)); // at least one cleanup run
    const replay = await refreshGrant(server, json.refresh_token as string);
    expect(replay.json.error).toBe('invalid_grant');
    // Caught as reuse: the live successor was revoked with its family.
    expect((await refreshGrant(server, second.json.refresh_token as string)).status).toBe(400);
  });
});

describe('oauthd cleanup', () => {
  it('removes dead rows on demand and reports how many', async () => {
    const stale = await startTestServer(
      { OAUTHD_CLEANUP_INTERVAL_SECONDS: '0' },
      { clock: testClock(Math.floor(Date.now() / 1000) - 30 * DAY) },
    );
    try {
      await seedSpecSample(stale);
      let { json } = await passwordGrant(stale);
      for (let i = 0; i < 5; i++) json = (await refreshGrant(stale, json.refresh_token as string)).json;
      const before = await tokenRowCounts(stale);
      expect(before.refresh).toBe(6);
      // 8 events: client.created, user.created, 1 token.issued, 5 refresh_token.rotated
      await stale.services.audit.flush();
      const env = { ...process.env, OAUTHD_AUDIT_RETENTION_SECONDS: String(DAY) };
      const { stdout } = await run(
        process.execPath,
        [CLI, 'cleanup', '--json', '--database-url', stale.config.store.databaseUrl],
        { cwd: ROOT, env },
      );
      // 30 days ago: every access token expired, the 5 used refresh tokens are past the 7-day retention,
      // and the 8 audit events past the 1-day audit retention.
      expect(JSON.parse(stdout)).toEqual({ deleted: 6 + 5 + 8 });
      const audit = await run(
        process.execPath,
        [CLI, 'audit', '--json', '--database-url', stale.config.store.databaseUrl],
        { cwd: ROOT },
      );
      expect(JSON.parse(audit.stdout)).toEqual([]);
      expect(await tokenRowCounts(stale)).toEqual({ grants: 1, access: 0, refresh: 1 });
      expect((await refreshGrant(stale, json.refresh_token as string)).status).toBe(200);
    } finally {
      await stale.stop();
    }
  });
});

describe('health', () => {
  it('answers /healthz and /readyz when the database is up, the detail only on the admin listener', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const detail = await fetch(`${server.adminUrl}/readyz`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({ status: 'ready', database: { status: 'up' } });
  });

  it('keeps validating live tokens while the cleanup runs', async () => {
    const { access } = await churn(3);
    expect((await userinfo(server, access)).status).toBe(200);
  });
});
