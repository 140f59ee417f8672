/**
 * The audit trail: structured events for token issued, refresh rotated, reuse detected, token revoked,
 * login failed, client authentication failed and lockout started — in the JSON log and in a table that
 * `oauthd audit` queries with filters. Never a secret in an event.
 * RFC 6819 §5.2.2.3 (detect and respond to refresh token reuse), RFC 9700 §4.14.2.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/process.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const run = promisify(execFile);
let server: TestServer;
const secrets: string[] = [SEED.clientSecret, SEED.password, 'wrong-pass-4411', 'wrong-secret-8812'];

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_MAX_FAILURES_PER_USER_IP: '3', OAUTHD_BACKOFF_AFTER: '100' });
  await seedSpecSample(server);
  await server.services.admin.createUser('bob', 'bob-password');
  secrets.push('bob-password');
  const first = await passwordGrant(server);
  const second = await refreshGrant(server, first.json.refresh_token as string);
  await refreshGrant(server, first.json.refresh_token as string); // reuse
  const other = await passwordGrant(server);
  await fetch(`${server.oauthUrl}/revoke_token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
    },
    body: `token=${other.json.access_token as string}`,
  });
  secrets.push(
    ...[first, second, other].flatMap((r) => [r.json.access_token as string, r.json.refresh_token as string]),
  );
  for (let i = 0; i < 3; i++) {
    await postToken(
      server,
      { grant_type: 'password', username: 'bob', password: 'wrong-pass-4411' },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
  }
  await postToken(
    server,
    { grant_type: 'password', username: 'bob', password: 'bob-password' },
    { authorization: basic(SEED.clientId, 'wrong-secret-8812') },
  );
  await server.services.audit.flush();
});

afterAll(async () => {
  await server.stop();
});

async function audit(...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'audit', '--json', '--database-url', server.config.store.databaseUrl, ...args],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as Record<string, unknown>[];
}

describe('oauthd audit', () => {
  it('lists every kind of event, newest first, with who, which client and from where', async () => {
    const events = await audit();
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of [
      'token.issued',
      'refresh_token.rotated',
      'refresh_token.reused',
      'grant.revoked',
      'login.failed',
      'client_auth.failed',
      'lockout.started',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    const issued = events.find((e) => e.event === 'token.issued')!;
    expect(issued).toMatchObject({
      client_id: SEED.clientId,
      username: SEED.username,
      ip: '127.0.0.1',
      grant_type: 'password',
      scope: 'read write',
    });
    expect(typeof issued.grant_id).toBe('string');
    const times = events.map((e) => Date.parse(e.at as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('filters by user, client, event and time', async () => {
    const bob = await audit('--user', 'bob');
    expect(bob.length).toBeGreaterThanOrEqual(4);
    expect(bob.every((e) => e.username === 'bob')).toBe(true);
    const failures = await audit('--event', 'login.failed');
    expect(failures).toHaveLength(3);
    expect(failures.every((e) => e.reason === 'wrong password')).toBe(true);
    expect(await audit('--client', 'no-such-client')).toEqual([]);
    expect((await audit('--client', SEED.clientId)).length).toBeGreaterThan(5);
    expect(await audit('--since', '2000-01-01T00:00:00Z', '--until', '2000-01-02T00:00:00Z')).toEqual([]);
    expect((await audit('--since', '1h')).length).toBe((await audit()).length);
    expect(await audit('--limit', '2')).toHaveLength(2);
  });

  it('prints readable lines without --json, and refuses a bad time with one line', async () => {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'audit', '--event', 'lockout.started', '--database-url', server.config.store.databaseUrl],
      { cwd: ROOT },
    );
    expect(stdout).toMatch(/lockout\.started {2}client=\S+ {2}user=bob {2}ip=127\.0\.0\.1/);
    const bad = await run(
      process.execPath,
      [CLI, 'audit', '--since', 'yesterday-ish', '--database-url', server.config.store.databaseUrl],
      { cwd: ROOT },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  });

  it('never holds a secret, in the table or in the log', async () => {
    const table = JSON.stringify(await audit('--limit', '1000'));
    const logs = server.logs();
    expect(logs).toContain('"event":"refresh_token.reused"');
    for (const secret of secrets) {
      expect(table.includes(secret), 'table').toBe(false);
      expect(logs.includes(secret), 'log').toBe(false);
    }
  });
});
