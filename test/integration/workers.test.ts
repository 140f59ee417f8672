/**
 * `oauthd serve --workers N`: a node:cluster primary and N workers sharing one port and one store.
 * Requests are served by every worker, a worker that dies is replaced, the primary's admin listener
 * reports the whole cluster at /metrics (the public port answers it 404), and SIGTERM drains every worker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { SEED, basic, seedSpecSampleInto } from '../helpers/server.js';

let dir: string;
let server: ServerProcess;

const workerPids = (): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.process.pid)])
    .toString()
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-workers-'));
  const databaseUrl = `sqlite:${join(dir, 'db.sqlite3')}`;
  await seedSpecSampleInto(databaseUrl);
  server = await spawnServer({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_WORKERS: '2' });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

const login = async () => {
  const response = await fetch(`${server.url}/o/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
      connection: 'close',
    },
    body: new URLSearchParams({ grant_type: 'password', username: SEED.username, password: SEED.password }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
};

const metricValue = (text: string, line: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(line))
      ?.split(' ')
      .pop() ?? 0,
  );

describe('serve --workers 2', () => {
  it('runs two worker processes that serve logins, refreshes and validation on one store', async () => {
    expect(workerPids()).toHaveLength(2);
    const results = await Promise.all(Array.from({ length: 12 }, login));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const refreshed = await fetch(`${server.url}/o/token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: results[0]!.json.refresh_token! }),
    });
    expect(refreshed.status).toBe(200);
  });

  it('reports the whole cluster at /metrics of the admin listener, served once by the primary', async () => {
    const before = await (await fetch(`${server.adminUrl}/metrics`, { headers: { connection: 'close' } })).text();
    const issuedBefore = metricValue(before, 'oauthd_tokens_issued_total{grant_type="password"}');
    // The request histogram (src/metrics/fast-histogram.ts) is summed across workers like the counters.
    const grants =
      'oauthd_http_request_duration_seconds_count{route="/o/token/",method="POST",status="200",grant_type="pass' +
      'word",error=""}';
    const grantsBefore = before.includes(grants) ? metricValue(before, grants) : 0;
    await Promise.all(Array.from({ length: 6 }, login));
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`${server.adminUrl}/metrics`, { headers: { connection: 'close' } })).text();
      expect(metricValue(text, 'oauthd_tokens_issued_total{grant_type="password"}') - issuedBefore).toBe(6);
      expect(metricValue(text, grants) - grantsBefore).toBe(6);
    }
  });

  it('answers /metrics on the public port with 404 from every worker', async () => {
    // connection: close, so consecutive requests may land on either worker.
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint.' });
    }
  });

  it('serves the admin listener from the primary, whose /readyz counts the workers listening', async () => {
    const { port } = new URL(server.adminUrl);
    const owner = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
    expect(owner).toContain(`pid=${server.process.pid},`);
    for (const pid of workerPids()) expect(owner).not.toContain(`pid=${pid},`);
    const ready = await fetch(`${server.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      database: { status: 'up' },
      workers: { listening: 2, configured: 2 },
    });
    expect(await (await fetch(`${server.url}/readyz`, { headers: { connection: 'close' } })).json()).toEqual({
      status: 'ready',
    });
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    let pids: number[] = [];
    for (let i = 0; i < 100 && (pids.length !== 2 || pids.includes(victim!)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      pids = workerPids();
    }
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(victim);
    expect((await login()).status).toBe(200);
  });

  it('drains every worker and exits 0 on SIGTERM', async () => {
    const pids = workerPids();
    expect(await server.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
