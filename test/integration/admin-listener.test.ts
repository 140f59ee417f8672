/**
 * Two listeners: the public one (OAuth endpoints, well-known documents, /healthz, /readyz with a status
 * only) and the admin one (OAUTHD_ADMIN_HOST:OAUTHD_ADMIN_PORT: /metrics, /healthz, /readyz with detail).
 * /metrics names failure reasons that tell whether a username exists or is disabled, so the public port
 * answers it 404. Over real HTTP to the in-process server, and to the built CLI (`node dist/cli/main.js
 * serve`, alone and with --workers 2) for start-up: a taken admin port ends the server with one line and a
 * non-zero exit, as a taken public port does.
 *
 * The CLI tests spawn dist/: run `npm run build` first when running this file alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envWithoutOauthd, runOauthd, spawnServer } from '../helpers/process.js';
import { SEED, basic, postToken, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

describe('the public listener', () => {
  it('answers /metrics with 404 not_found, as any unknown path', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint.' });
    expect((await fetch(`${server.url}/metrics/`)).status).toBe(404);
  });

  it('answers /readyz with its status only, no detail about the database', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('still serves /healthz, the token endpoint and the metadata', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(
      (
        await postToken(
          server,
          { grant_type: 'password', username: SEED.username, password: SEED.password },
          { authorization: basic(SEED.clientId, SEED.clientSecret) },
        )
      ).status,
    ).toBe(200);
    expect((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status).toBe(200);
  });

  it('does not list /metrics in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.oauthUrl}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).not.toContain('/metrics');
  });
});

describe('the admin listener', () => {
  it('listens on its own port, apart from the public one', () => {
    expect(server.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(server.adminUrl).port).not.toBe(new URL(server.url).port);
  });

  it('serves /metrics as Prometheus text, failure reasons included', async () => {
    await postToken(
      server,
      { grant_type: 'password', username: 'nobody-here', password: 'x' },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    const response = await fetch(`${server.adminUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^# TYPE oauthd_login_failures_total counter$/m);
    expect(text).toMatch(/^oauthd_login_failures_total\{reason="unknown user"\} [1-9]/m);
    expect(text).toMatch(/^oauthd_http_request_duration_seconds_count\{route="\/o\/token\/"/m);
  });

  it('serves /readyz with detail: the database and how long it took to answer', async () => {
    const response = await fetch(`${server.adminUrl}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; database: { status: string; latency_ms: number } };
    expect(body).toEqual({
      status: 'ready',
      database: { status: 'up', latency_ms: expect.any(Number) },
      brute_force_counters: { status: 'local' },
    });
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('serves /healthz', async () => {
    const response = await fetch(`${server.adminUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves none of the OAuth endpoints: 404 for the token endpoint and the metadata', async () => {
    const token = await fetch(`${server.adminUrl}/o/token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: SEED.username,
        password: SEED.password,
      }).toString(),
    });
    expect(token.status).toBe(404);
    expect(await token.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint.' });
    expect((await fetch(`${server.adminUrl}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect((await fetch(`${server.adminUrl}/o/openapi.json`)).status).toBe(404);
  });

  it('does not count its own requests in the request histogram of the public endpoints', async () => {
    const healthz = (text: string) =>
      Number(/^oauthd_http_request_duration_seconds_count\{route="\/healthz"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = await (await fetch(`${server.adminUrl}/metrics`)).text();
    for (let i = 0; i < 3; i++) await fetch(`${server.adminUrl}/healthz`);
    await fetch(`${server.url}/healthz`);
    const after = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(healthz(after) - healthz(before)).toBe(1);
    expect(after).not.toMatch(/route="\/metrics"/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The built CLI
// ---------------------------------------------------------------------------------------------------------

describe('oauthd serve and the admin port', () => {
  let dir: string;
  let holder: Server;
  let takenPort: number;

  /** Runs `oauthd serve <args>` to its exit (killed after 20 s: a server that starts instead fails the test). */
  const runServe = (args: string[], env: Record<string, string>) =>
    runOauthd(['serve', ...args], {
      env: envWithoutOauthd({ OAUTHD_LOG_LEVEL: 'warn', OAUTHD_HOST: '127.0.0.1', ...env }),
      timeoutMs: 20_000,
    });

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });

  const isListening = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-admin-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    takenPort = (holder.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['1'], ['2']])(
    'exits non-zero with one line naming the setting when the admin port is taken (--workers %s)',
    async (workers) => {
      const publicPort = await freePort();
      const result = await runServe(['--workers', workers], {
        OAUTHD_DATABASE_URL: `sqlite:${join(dir, `taken-${workers}.sqlite3`)}`,
        OAUTHD_PORT: String(publicPort),
        OAUTHD_ADMIN_PORT: String(takenPort),
      });
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      // Nothing but the one line (the empty-store hint is printed only once the server runs).
      expect(lines(result.stderr)).toEqual([
        `oauthd: admin listener (OAUTHD_ADMIN_HOST/OAUTHD_ADMIN_PORT): listen EADDRINUSE: address already in ` +
          `use 127.0.0.1:${takenPort}`,
      ]);
      expect(await isListening(publicPort)).toBe(false);
    },
  );

  it.each([['1'], ['2']])(
    'exits non-zero with one line when the public port is taken, the same way (--workers %s)',
    async (workers) => {
      const adminPort = await freePort();
      const result = await runServe(['--workers', workers], {
        OAUTHD_DATABASE_URL: `sqlite:${join(dir, `public-taken-${workers}.sqlite3`)}`,
        OAUTHD_PORT: String(takenPort),
        OAUTHD_ADMIN_PORT: String(adminPort),
      });
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      expect(lines(result.stderr)).toEqual([
        `oauthd: listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}`,
      ]);
      expect(await isListening(adminPort)).toBe(false);
    },
  );

  it.each([['1'], ['2']])(
    'takes --admin-port 0 over the environment, announces the admin URL, and serves /metrics there only (--workers %s)',
    async (workers) => {
      const started = await spawnServer(
        {
          OAUTHD_DATABASE_URL: `sqlite:${join(dir, `flag-${workers}.sqlite3`)}`,
          OAUTHD_WORKERS: workers,
          // The environment names the taken port: only the flag lets the server start.
          OAUTHD_ADMIN_PORT: String(takenPort),
        },
        ['--admin-port', '0', '--admin-host', '127.0.0.1'],
      );
      try {
        expect(started.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(started.adminUrl).not.toBe(`http://127.0.0.1:${takenPort}`);
        expect(started.stderr()).toMatch(
          new RegExp(
            String.raw`^oauthd: admin listener \(/metrics, /healthz, /readyz, /admin/v1/, /console/; ` +
              String.raw`keep it private\) at http://127\.0\.0\.1:\d+$`,
            'm',
          ),
        );
        const metrics = await fetch(`${started.adminUrl}/metrics`, { headers: { connection: 'close' } });
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^# TYPE oauthd_tokens_issued_total counter$/m);
        expect((await fetch(`${started.url}/metrics`, { headers: { connection: 'close' } })).status).toBe(404);
        const ready = (await (await fetch(`${started.adminUrl}/readyz`)).json()) as Record<string, unknown>;
        expect(ready).toMatchObject({ status: 'ready', database: { status: 'up' } });
        if (workers === '2') expect(ready.workers).toEqual({ listening: 2, configured: 2 });
        else expect(ready.workers).toBeUndefined();
      } finally {
        expect(await started.stop()).toBe(0);
      }
      expect(await isListening(Number(new URL(started.adminUrl).port))).toBe(false);
    },
  );
});
