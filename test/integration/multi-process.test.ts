/**
 * Two oauthd processes on one SQLite file (or, with OAUTHD_TEST_STORE=postgres, one PostgreSQL database):
 * single use of refresh tokens must hold across processes, not only within one event loop (RFC 9700
 * §4.14.2; RFC 6749 §6). The store's conditional update is what makes it so: under SQLite's write lock
 * (BEGIN IMMEDIATE, busy_timeout), or PostgreSQL's row lock and READ COMMITTED re-check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { SEED, TEST_STORE, basic, seedSpecSampleInto } from '../helpers/server.js';

let dir: string;
let database: TestDatabase | undefined;
let servers: ServerProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-multi-'));
  if (TEST_STORE === 'postgres') database = await createTestDatabase();
  const databaseUrl = database ? database.url : `sqlite:${join(dir, 'shared.sqlite3')}`;
  await seedSpecSampleInto(databaseUrl);
  servers = await Promise.all([
    spawnServer({ OAUTHD_DATABASE_URL: databaseUrl }),
    spawnServer({ OAUTHD_DATABASE_URL: databaseUrl }),
  ]);
});

afterAll(async () => {
  const codes = await Promise.all(servers.map((s) => s.stop()));
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]);
});

const token = async (url: string, fields: Record<string, string>) => {
  const response = await fetch(`${url}/o/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
    },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
};
const login = (url: string) => token(url, { grant_type: 'password', username: SEED.username, password: SEED.password });

describe(`two server processes on one ${TEST_STORE === 'postgres' ? 'PostgreSQL database' : 'SQLite file'}`, () => {
  it('accepts on one process a token issued by the other, and refreshes it there', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const issued = await login(a.url);
    expect(issued.status).toBe(200);
    const info = await fetch(`${b.url}/o/userinfo/`, {
      headers: { authorization: `Bearer ${issued.json.access_token}` },
    });
    expect(info.status).toBe(200);
    const refreshed = await token(b.url, { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token! });
    expect(refreshed.status).toBe(200);
    const old = await fetch(`${a.url}/o/userinfo/`, {
      headers: { authorization: `Bearer ${issued.json.access_token}` },
    });
    expect(old.status).toBe(401);
  });

  // Each SQLite process keeps the access tokens it validated (src/store/sqlite/access-token-cache.ts): a change
  // committed by the other process must be seen on the very next request.
  it(
    'refuses on one process, at the next request, a token it had just accepted once the other revoked it or ' +
      'rotated it away',
    async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const userinfo = (url: string, accessToken: string) =>
        fetch(`${url}/o/userinfo/`, { headers: { authorization: `Bearer ${accessToken}` } });

      const revoked = await login(a.url);
      expect((await userinfo(b.url, revoked.json.access_token!)).status).toBe(200);
      expect((await userinfo(b.url, revoked.json.access_token!)).status).toBe(200);
      const revocation = await fetch(`${a.url}/o/revoke_token/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(SEED.clientId, SEED.clientSecret),
        },
        body: new URLSearchParams({ token: revoked.json.refresh_token! }),
      });
      expect(revocation.status).toBe(200);
      expect((await userinfo(b.url, revoked.json.access_token!)).status).toBe(401);

      const rotated = await login(a.url);
      expect((await userinfo(b.url, rotated.json.access_token!)).status).toBe(200);
      const refreshed = await token(a.url, { grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token! });
      expect(refreshed.status).toBe(200);
      expect((await userinfo(b.url, rotated.json.access_token!)).status).toBe(401);
      expect((await userinfo(b.url, refreshed.json.access_token!)).status).toBe(200);
    },
  );

  it('lets exactly one of 30 parallel refreshes spread over both processes succeed, with no 500', async () => {
    for (let round = 0; round < 3; round++) {
      const issued = await login(servers[0]!.url);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          token(servers[i % 2]!.url, { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token! }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 400)).toHaveLength(29);
    }
  });
});
