/**
 * The admin API's audit trail and dashboard summary over real HTTP, and the promise behind the core's admin
 * module: the CLI and the API share one implementation of each action, so the same change made through either
 * leaves the same audit event — the same name and fields — but for `actor`.
 *
 * The CLI runs as the built `dist/cli/main.js`: run `npm run build` first when running this file alone.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEvents, registerClient, tokenFor } from '../helpers/admin-api.js';
import { runCli } from '../helpers/cli.js';
import { CLI } from '../helpers/process.js';
import { SEED, passwordGrant, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: string;
let adminClientId: string;
const started = Math.floor(Date.now() / 1000) - 1;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  server = await startTestServer();
  await seedSpecSample(server);
  const client = await registerClient(server, 'oauthd:admin');
  adminClientId = client.id;
  admin = await tokenFor(server, client, 'oauthd:admin');
});

afterAll(async () => {
  await server?.stop();
});

const get = (query: string) => api(server, admin, 'GET', `/audit-events?${query}`);

describe('the audit trail', () => {
  it('filters by event, client, username and time (epoch seconds or RFC 3339), newest first', async () => {
    for (let i = 0; i < 3; i++) expect((await passwordGrant(server)).status).toBe(200);
    const events = await auditEvents(server, admin, `event=token.issued&client_id=${SEED.clientId}`);
    expect(events).toHaveLength(3);
    for (const e of events) expect(e).toMatchObject({ event: 'token.issued', client_id: SEED.clientId });
    const ats = events.map((e) => Date.parse(e.at));
    expect([...ats].sort((a, b) => b - a)).toEqual(ats);
    expect(await auditEvents(server, admin, `event=token.issued&username=${SEED.username}`)).toHaveLength(3);
    const rfc3339 = new Date(started * 1000).toISOString();
    expect(
      await auditEvents(
        server,
        admin,
        `event=token.issued&client_id=${SEED.clientId}&since=${encodeURIComponent(rfc3339)}`,
      ),
    ).toHaveLength(3);
    expect(await auditEvents(server, admin, `event=token.issued&until=${started}`)).toEqual([]);
  });

  it('pages through more than one page with next_cursor, every event once', async () => {
    const all = await auditEvents(server, admin, 'limit=200');
    expect(all.length).toBeGreaterThan(4);
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const result = await get(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(result.status).toBe(200);
      paged.push(...result.json.items.map((e: { id: number }) => e.id));
      cursor = result.json.next_cursor;
    } while (cursor !== null);
    expect(paged).toEqual(all.map((e) => e.id));
  });

  it('refuses a bad time, an unknown event, a bad cursor and since after until, naming the parameter', async () => {
    const cases: [string, string][] = [
      ['since=yesterday', 'since'],
      ['until=2026-02-30T00:00:00Z', 'until'],
      ['since=2026-11-25', 'since'],
      ['event=token.stolen', 'event'],
      ['cursor=eyJrIjoiY2xpZW50cyIsImFmdGVyIjoieCJ9', 'cursor'],
      ['since=2000&until=1000', 'since'],
    ];
    for (const [query, field] of cases) {
      const result = await get(query);
      expect(result.status, query).toBe(400);
      expect(
        result.json.fields.map((f: { field: string }) => f.field),
        query,
      ).toContain(field);
    }
  });
});

describe('the activity summary', () => {
  it('counts the tokens issued per minute over the last hour and per hour over the last day', async () => {
    await server.services.audit.flush();
    const result = await api(server, admin, 'GET', '/activity');
    expect(result.status).toBe(200);
    const { last_hour: hour, last_day: day } = result.json;
    expect(hour.bucket_seconds).toBe(60);
    expect(hour.buckets).toHaveLength(60);
    expect(day.bucket_seconds).toBe(3600);
    expect(day.buckets).toHaveLength(24);
    const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    // Three password grants and the admin's own client_credentials token.
    expect(sum(hour.counts.issued)).toBe(4);
    expect(sum(day.counts.issued)).toBe(4);
    expect(Object.keys(hour.counts).sort()).toEqual(['failed', 'issued', 'locked', 'refreshed']);
    expect(Array.isArray(result.json.password_grant_clients)).toBe(true);
  });
});

describe('the CLI and the API leave the same audit events', () => {
  const cli = async (args: string[], input = '') => {
    const result = await runCli(server.config.store.databaseUrl, args, input);
    expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
    expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  };
  const write = (method: string, path: string, body?: unknown, ifMatch = '*') =>
    api(server, admin, method, path, { ...(body !== undefined ? { body } : {}), headers: { 'if-match': ifMatch } });

  it('for clients and users, but for the actor', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const password = 'parity-password-long';
    await cli(['client', 'create', '--client-id', 'cli-c', '--name', 'Same', '--grant-types', 'client_credentials']);
    await cli(['client', 'update', 'cli-c', '--name', 'Renamed', '--access-token-ttl', '600']);
    await cli(['client', 'rotate-secret', 'cli-c']);
    await cli(['client', 'delete', 'cli-c']);
    await cli(['user', 'create', '--username', 'cli-u', '--password-stdin'], `${password}\n`);
    await cli(['user', 'disable', 'cli-u']);
    await cli(['user', 'enable', 'cli-u']);
    await cli(['user', 'set-password', 'cli-u', '--password-stdin'], `${password}-2\n`);
    await cli(['user', 'rename', 'cli-u', 'cli-v']);
    await cli(['user', 'delete', 'cli-v']);

    const steps = [
      await write('POST', '/clients', { client_id: 'api-c', name: 'Same', grant_types: ['client_credentials'] }),
      await write('PATCH', '/clients/api-c', { name: 'Renamed', access_token_ttl: 600 }),
      await write('POST', '/clients/api-c/secret'),
      await write('DELETE', '/clients/api-c'),
      await write('POST', '/users', { username: 'api-u', password }),
      await write('PATCH', '/users/api-u', { is_active: false }),
      await write('PATCH', '/users/api-u', { is_active: true }),
      await write('PUT', '/users/api-u/password', { password: `${password}-2` }),
      await write('PATCH', '/users/api-u', { username: 'api-v' }),
      await write('DELETE', '/users/api-v'),
    ];
    for (const step of steps) expect(step.status, JSON.stringify(step.json)).toBeLessThan(300);

    const events = await auditEvents(server, admin, `since=${since}&limit=200`);
    // The same change on `cli-…` and `api-…`: compared with the names made alike, without actor and user ids.
    const alike = (from: string) =>
      events
        .filter((e) => JSON.stringify(e).includes(`"${from}-`))
        .map(({ event, client_id, username, detail }) => {
          const { actor: _actor, user_id: _id, ...rest } = detail;
          return JSON.parse(
            JSON.stringify({ event, client_id, username, detail: rest }).replaceAll(`"${from}-`, '"x-'),
          );
        });
    const byCli = alike('cli');
    expect(byCli.map((e) => e.event)).toEqual([
      'user.deleted',
      'user.renamed',
      'user.password_changed',
      'user.enabled',
      'user.disabled',
      'user.created',
      'client.deleted',
      'client.secret_rotated',
      'client.updated',
      'client.created',
    ]);
    expect(alike('api')).toEqual(byCli);
    for (const e of events) {
      if (JSON.stringify(e).includes('"cli-')) expect(e.detail.actor).toBe(`cli:${userInfo().username}`);
      if (JSON.stringify(e).includes('"api-')) expect(e.detail.actor).toBe(`api:client:${adminClientId}`);
    }
  });
});
