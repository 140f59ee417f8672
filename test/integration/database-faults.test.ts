/**
 * Database faults: a real `oauthd serve` process talks to PostgreSQL through a TCP proxy the test controls
 * (test/helpers/tcp-proxy.ts), which cuts the path (connections destroyed, new ones refused), stalls it
 * (connections held, nothing forwarded) and restores it.
 *
 * What must hold (docs/design-notes.md, PostgreSQL: pool and timeouts, errors):
 * - RFC 6749 §5.2 (`temporarily_unavailable`) and RFC 9110 §15.6.4 (503, Retry-After): while the database
 *   is unreachable or silent, every endpoint that needs it answers 503 with an RFC-shaped body within
 *   seconds: never a hang, never a 500, never a crash. The bounds: connecting (or waiting for a pooled
 *   connection) 5 s; a query whose answer never comes, statement_timeout + 5 s (here 1 s + 5 s).
 * - /readyz answers 503 while the database is away (within its own 2 s), /healthz 200 throughout; the admin
 *   listener's /readyz says why (the public one only says unavailable).
 * - Service resumes by itself when the database returns: no restart.
 * - RFC 9700 §4.14.2: a rotation is one statement, so a connection lost in the middle of refreshes never
 *   leaves a family without its one live refresh token; with the grace window on, a client whose response
 *   was lost retries with the token it holds and gets the pair it missed (a lost response after the commit
 *   cannot be told from theft without it: docs/security.md).
 *
 * PostgreSQL only, whatever OAUTHD_TEST_STORE says. Skipped loudly when PostgreSQL is unreachable, unless
 * OAUTHD_REQUIRE_POSTGRES=1 (then it fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  healthz,
  introspectAt,
  isRfcError,
  isTokenResponse,
  passwordGrantAt,
  readyz,
  refreshAt,
  tokenDigest,
  userinfoAt,
  waitUntil,
  type HttpResult,
} from '../helpers/oauth-http.js';
import { createTestDatabase, postgresAvailable, withClient, type TestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { UNLIMITED_THROTTLE, seedSpecSampleInto } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** The server's statement_timeout (URL option); a query with no answer is given up 5 s after it. */
const STATEMENT_TIMEOUT_MS = 1000;
/** Every answer during an outage comes within this: max(connect 5 s, statement_timeout + 5 s) + slack. */
const ANSWER_WITHIN_MS = 7000;
/** Service resumes within this after the database returns. */
const RESUME_WITHIN_MS = 5000;
const CHAINS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 503 temporarily_unavailable, RFC-shaped, with Retry-After and no-store, answered within the bound. */
function expectUnavailable(r: HttpResult, what: string): void {
  expect(r.status, `${what}: ${r.text}`).toBe(503);
  expect(isRfcError(r), `${what}: ${r.text}`).toBe(true);
  expect(r.json!.error).toBe('temporarily_unavailable');
  expect(r.headers.get('retry-after'), what).toMatch(/^\d+$/);
  expect(r.headers.get('cache-control'), what).toBe('no-store');
  expect(r.ms, `${what} took ${Math.round(r.ms)} ms`).toBeLessThan(ANSWER_WITHIN_MS);
}

if (await postgresAvailable('the database fault tests (test/integration/database-faults.test.ts)')) {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: ServerProcess;
  /** Every status the server answered during the file, to check that none was a 500. */
  const statuses: number[] = [];
  const seen = <T extends HttpResult>(r: T): T => {
    statuses.push(r.status);
    return r;
  };
  const base = () => server.url;
  const login = async () => {
    const r = seen(await passwordGrantAt(base()));
    expect(isTokenResponse(r), r.text).toBe(true);
    return { access: r.json!.access_token as string, refresh: r.json!.refresh_token as string };
  };
  /** Restores the proxy and measures how long until a password grant and /readyz succeed again. */
  const restoreAndResume = async (): Promise<number> => {
    await proxy.restore();
    const ms = await waitUntil(
      'service resumed',
      async () => (await readyz(base())).status === 200 && seen(await passwordGrantAt(base())).status === 200,
      RESUME_WITHIN_MS,
    );
    expect(server.process.exitCode).toBeNull();
    return ms;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await seedSpecSampleInto(database.url);
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('statement_timeout', String(STATEMENT_TIMEOUT_MS));
    server = await spawnServer({
      OAUTHD_DATABASE_URL: viaProxy.toString(),
      // A client whose refresh response was lost retries with the token it holds (docs/security.md).
      OAUTHD_REFRESH_GRACE_SECONDS: '60',
      ...UNLIMITED_THROTTLE,
    });
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    const code = await server?.stop();
    await proxy?.close();
    await database?.drop();
    expect(code).toBe(0);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  });

  describe('oauthd behind a TCP proxy to PostgreSQL', () => {
    it('serves normally through the proxy', async () => {
      const pair = await login();
      expect(seen(await userinfoAt(base(), pair.access)).status).toBe(200);
      expect((await readyz(base())).json).toEqual({ status: 'ready' });
      const detail = await readyz(server.adminUrl);
      expect(detail.status).toBe(200);
      expect(detail.json).toMatchObject({ status: 'ready', database: { status: 'up' } });
    });

    it(
      'with the database cut off, answers every endpoint that needs it with 503 temporarily_unavailable and ' +
        'Retry-After at once; /readyz says unavailable, /healthz ok; resumes by itself when it returns',
      async () => {
        const before = await login();
        await proxy.cut();

        const [password, refresh, info, introspection] = await Promise.all([
          passwordGrantAt(base()).then(seen),
          refreshAt(base(), before.refresh).then(seen),
          userinfoAt(base(), before.access).then(seen),
          introspectAt(base(), before.access).then(seen),
        ]);
        expectUnavailable(password, 'password grant');
        expectUnavailable(refresh, 'refresh');
        expectUnavailable(info, 'userinfo');
        expectUnavailable(introspection, 'introspection');
        // A refused connection is known at once: no reason to wait for a timeout.
        for (const r of [password, refresh, info, introspection]) expect(r.ms).toBeLessThan(2000);

        const ready = await readyz(base());
        expect(ready.status).toBe(503);
        expect(ready.json).toEqual({ status: 'unavailable' });
        expect(ready.headers.get('retry-after')).toMatch(/^\d+$/);
        const detail = await readyz(server.adminUrl);
        expect(detail.status).toBe(503);
        expect(detail.json).toMatchObject({
          status: 'unavailable',
          database: { status: 'down', error: expect.any(String) },
        });
        const health = await healthz(base());
        expect(health.status).toBe(200);
        expect(health.json).toEqual({ status: 'ok' });

        const resumedInMs = await restoreAndResume();
        console.info(
          `cut: answers in ${[password, refresh, info, introspection].map((r) => Math.round(r.ms)).join('/')} ` +
            `ms; resumed ${Math.round(resumedInMs)} ms after restore`,
        );
        // Nothing was written during the outage: the refresh token held before it still works, once.
        const after = seen(await refreshAt(base(), before.refresh));
        expect(isTokenResponse(after), after.text).toBe(true);
        expect(seen(await userinfoAt(base(), after.json!.access_token as string)).status).toBe(200);
      },
    );

    it(
      'with the database stalled (connections accepted, nothing answered), answers 503 within the timeouts, ' +
        'never hangs; /healthz answers at once; resumes by itself',
      async () => {
        const before = await login();
        proxy.stall();

        const healthDuringStall = healthz(base());
        const readyDuringStall = readyz(base());
        const detailDuringStall = readyz(server.adminUrl);
        const answers = await Promise.all([
          passwordGrantAt(base()).then(seen),
          refreshAt(base(), before.refresh).then(seen),
          userinfoAt(base(), before.access).then(seen),
          introspectAt(base(), before.access).then(seen),
        ]);
        const [password, refresh, info, introspection] = answers;
        expectUnavailable(password!, 'password grant');
        expectUnavailable(refresh!, 'refresh');
        expectUnavailable(info!, 'userinfo');
        expectUnavailable(introspection!, 'introspection');

        const health = await healthDuringStall;
        expect(health.status).toBe(200);
        expect(health.ms).toBeLessThan(1000);
        const ready = await readyDuringStall;
        expect(ready.status).toBe(503);
        expect(ready.json).toEqual({ status: 'unavailable' });
        expect(ready.ms).toBeLessThan(3000); // its own 2 s bound
        const detail = await detailDuringStall;
        expect(detail.status).toBe(503);
        expect(detail.json).toMatchObject({ status: 'unavailable', database: { status: 'down', error: 'timeout' } });
        expect(detail.ms).toBeLessThan(3000);

        const resumedInMs = await restoreAndResume();
        console.info(
          `stall: answers in ${answers.map((r) => Math.round(r.ms)).join('/')} ms, /readyz in ` +
            `${Math.round(ready.ms)} ms; resumed ${Math.round(resumedInMs)} ms after restore`,
        );
        // Whatever the stalled requests left behind, the client's token works: unused, or (had the held
        // rotation reached the database on restore) replayed within the grace window.
        const after = seen(await refreshAt(base(), before.refresh));
        expect(isTokenResponse(after), after.text).toBe(true);
      },
    );

    it(
      'a cut or a stall in the middle of refreshes leaves every family with exactly one live refresh token, and ' +
        "every client's last token still works (no half-written rotation, no 500)",
      async () => {
        const chains: { access: string; refresh: string; lostResponses: number; outageAnswers: number }[] = [];
        for (let i = 0; i < CHAINS; i++) chains.push({ ...(await login()), lostResponses: 0, outageAnswers: 0 });
        const live = async () =>
          withClient(database.url, async (c) => {
            const { rows } = await c.query<{ presented: Buffer; live: Buffer[]; grant_revoked: boolean }>(
              `SELECT p.token_hash AS presented,
               array(SELECT r.token_hash FROM refresh_tokens r WHERE r.grant_id = p.grant_id AND r.used_at IS NULL
                 AND r.revoked_at IS NULL) AS live,
               g.revoked_at IS NOT NULL AS grant_revoked
             FROM unnest($1::bytea[]) WITH ORDINALITY AS t (hash, n)
             JOIN refresh_tokens p ON p.token_hash = t.hash JOIN grants g ON g.id = p.grant_id ORDER BY t.n`,
              [chains.map((c) => tokenDigest(c.refresh))],
            );
            return rows;
          });

        const unexpected: string[] = [];
        let requests = 0;
        for (const fault of ['cut', 'cut', 'stall'] as const) {
          let running = true;
          const loops = chains.map(async (chain) => {
            while (running) {
              requests++;
              const r = seen(await refreshAt(base(), chain.refresh));
              if (r.status === 200 && isTokenResponse(r)) {
                chain.access = r.json!.access_token as string;
                chain.refresh = r.json!.refresh_token as string;
              } else if (r.status === 503 && isRfcError(r) && r.json!.error === 'temporarily_unavailable') {
                chain.outageAnswers++;
                await sleep(20);
              } else {
                unexpected.push(`${r.status} ${r.text}`);
                return;
              }
            }
          });
          await sleep(250);
          if (fault === 'cut') await proxy.cut();
          else proxy.stall();
          await sleep(300);
          running = false;
          // A stalled request ends with its query timeout (statement_timeout + 5 s).
          await Promise.all(loops);

          if (fault === 'cut') {
            // While the database is cut off from oauthd, what oauthd committed is final: check it now.
            const rows = await live();
            for (const [i, row] of rows.entries()) {
              expect(row.grant_revoked, `chain ${i}`).toBe(false);
              expect(row.live, `chain ${i}: live refresh tokens of its family`).toHaveLength(1);
            }
          }
          await restoreAndResume();
          // After a stall, what the proxy held reached the database on restore (a rotation the client was
          // already told failed may have committed just now): check after that.
          const rows = await live();
          expect(rows).toHaveLength(CHAINS);
          for (const [i, row] of rows.entries()) {
            expect(row.grant_revoked, `chain ${i}`).toBe(false);
            expect(row.live, `chain ${i}: live refresh tokens of its family`).toHaveLength(1);
            const chain = chains[i]!;
            const holdsTheLiveOne = row.live[0]!.equals(tokenDigest(chain.refresh));
            // The client's last request was answered 503 after its rotation committed: the response was lost.
            if (!holdsTheLiveOne) chain.lostResponses++;
            // Either way, the token the client holds gets it a pair: a rotation, or the one it missed (replayed).
            const retry = seen(await refreshAt(base(), chain.refresh));
            expect(isTokenResponse(retry), `chain ${i}: ${retry.text}`).toBe(true);
            if (!holdsTheLiveOne)
              expect(
                tokenDigest(retry.json!.refresh_token as string).equals(row.live[0]!),
                `chain ${i}: the missed pair`,
              ).toBe(true);
            chain.access = retry.json!.access_token as string;
            chain.refresh = retry.json!.refresh_token as string;
          }
        }
        expect(unexpected).toEqual([]);
        expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
        // Every chain lives on: its access token is accepted, its refresh token rotates.
        for (const chain of chains) {
          expect(seen(await userinfoAt(base(), chain.access)).status).toBe(200);
          expect(isTokenResponse(seen(await refreshAt(base(), chain.refresh)))).toBe(true);
        }
        const outage = chains.reduce((n, c) => n + c.outageAnswers, 0);
        const lost = chains.reduce((n, c) => n + c.lostResponses, 0);
        console.info(
          `mid-refresh faults: ${requests} refreshes, ${outage} answered 503, ${lost} lost response(s) recovered ` +
            `by a retry`,
        );
        expect(outage).toBeGreaterThan(0);
      },
    );
  });
} else {
  describe.skip('oauthd behind a TCP proxy to PostgreSQL (PostgreSQL unreachable)', () => {
    it('answers 503 during database faults and resumes by itself', () => {});
  });
}
