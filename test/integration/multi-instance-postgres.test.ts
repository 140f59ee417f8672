/**
 * Several instances on one PostgreSQL database: three real `oauthd serve` processes (one worker each), as
 * behind a load balancer, plus a resource server using the kit on the same database.
 *
 * - Migrations: the three start at the same moment on a fresh, empty database, so their migrations race;
 *   the advisory lock (postgres/maintenance.ts `migrate`) serializes them and every instance starts.
 * - RFC 6749 §6 and RFC 9700 §4.14.2: a refresh token is single-use across instances; of 30 parallel
 *   refreshes of one token spread over the three, exactly one succeeds and the rest are reuse
 *   (invalid_grant), never a 5xx.
 * - RFC 7009 §2.1, RFC 7662 §2.2, RFC 6750 §3.1: a token issued by one instance is accepted, refreshed and
 *   revoked on the others; a revocation on one is honoured by every instance at once (oauthd keeps no token
 *   cache) and by the kit's cache within its staleness bound (docs/resource-server-kit.md).
 *
 * PostgreSQL only, whatever OAUTHD_TEST_STORE says. Skipped loudly when PostgreSQL is unreachable, unless
 * OAUTHD_REQUIRE_POSTGRES=1 (then it fails).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { startExample, type ExampleProcess } from '../helpers/kit-example.js';
import {
  introspectAt,
  isRfcError,
  isTokenResponse,
  passwordGrantAt,
  refreshAt,
  request,
  revokeAt,
  userinfoAt,
  waitUntil,
  type HttpResult,
} from '../helpers/oauth-http.js';
import { createTestDatabase, postgresAvailable, withClient, type TestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { SEED, UNLIMITED_THROTTLE, seedSpecSampleInto } from '../helpers/server.js';

const STALENESS_MS = 1000;
const PARALLEL = 30;

/**
 * The key of the advisory lock oauthd migrates under (MIGRATION_LOCK_KEY in postgres/maintenance.ts: "oauthd" in
 * ASCII).
 */
const MIGRATION_LOCK_KEY = '122464373074020';

/**
 * Takes the migration lock from the test, so that instances starting now all queue on it; `waiters` counts
 * the sessions of the database waiting for it; `release` lets them race.
 */
async function holdMigrationLock(database: TestDatabase) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  return {
    async waiters(): Promise<number> {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1`,
        [database.name],
      );
      return rows[0]!.n;
    },
    async release() {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
      await client.end();
    },
  };
}

if (await postgresAvailable('the multi-instance tests (test/integration/multi-instance-postgres.test.ts)')) {
  let database: TestDatabase;
  let instances: ServerProcess[] = [];
  let kit: ExampleProcess | undefined;
  /** From the release of the migration lock to the last instance listening. */
  let startedInMs = 0;

  const A = () => instances[0]!.url;
  const B = () => instances[1]!.url;
  const C = () => instances[2]!.url;
  const all = () => instances.map((i) => i.url);

  const tokens = (r: HttpResult) => ({
    access: r.json!.access_token as string,
    refresh: r.json!.refresh_token as string,
  });
  const login = async (base: string) => {
    const r = await passwordGrantAt(base);
    expect(r.status, r.text).toBe(200);
    return tokens(r);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { OAUTHD_DATABASE_URL: database.url, OAUTHD_WORKERS: '1', ...UNLIMITED_THROTTLE };
    // All three at once on an empty database: each runs the migrations on start.
    // All three at once on an empty database, each migrating on start. To make the race certain rather
    // than likely, the test holds the migration lock until all three wait for it, then lets go: one
    // migrates, the other two wait for its commit and find nothing left to do.
    const gate = await holdMigrationLock(database);
    const starting = Promise.allSettled([spawnServer(env), spawnServer(env), spawnServer(env)]);
    try {
      await waitUntil(
        'three instances waiting for the migration lock',
        async () => (await gate.waiters()) === 3,
        15_000,
        20,
      );
    } finally {
      await gate.release();
    }
    const released = performance.now();
    const results = await starting;
    startedInMs = performance.now() - released;
    instances = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`instance ${i}: ${(r.reason as Error).message}`] : [],
    );
    if (failures.length > 0) {
      await Promise.all(instances.map((i) => i.stop()));
      instances = [];
      throw new Error(`not every instance started on a fresh database:\n${failures.join('\n')}`);
    }
    // Seed through the admin services (the CLI's path) after the instances started: they read clients and
    // users from the database on every request, so they see them at once.
    await seedSpecSampleInto(database.url);
    kit = await startExample('examples/payouts-api.mjs', {
      OAUTHD_DATABASE_URL: database.url,
      PAYOUTS_MAX_STALENESS_MS: String(STALENESS_MS),
    });
  });

  afterAll(async () => {
    const kitCode = await kit?.stop();
    const codes = await Promise.all(instances.map((i) => i.stop()));
    await database?.drop();
    expect(codes).toEqual([0, 0, 0]);
    expect(kitCode).toBe(0);
  });

  describe('three oauthd processes on one PostgreSQL database', () => {
    it(
      'all start when launched together on a fresh empty database (all three raced for the migration lock), and ' +
        'each migration is recorded once',
      async () => {
        expect(instances).toHaveLength(3);
        expect(new Set(instances.map((i) => i.process.pid)).size).toBe(3);
        expect(new Set(all()).size).toBe(3);
        const { rows } = await withClient(database.url, (c) =>
          c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'),
        );
        expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
        for (const base of all()) {
          const ready = await request(`${base}/readyz`);
          expect(ready.status).toBe(200);
          expect(ready.json).toEqual({ status: 'ready' });
        }
        console.info(
          `three instances migrated and listened within ${Math.round(startedInMs)} ms of the migration lock's release`,
        );
      },
    );

    it(
      'accepts on B a token issued by A, refreshes it on C, and ' + 'after a revocation on B refuses it on A and C',
      async () => {
        const issued = await login(A());

        const info = await userinfoAt(B(), issued.access);
        expect(info.status).toBe(200);
        expect(info.json).toMatchObject({ username: SEED.username, client_id: SEED.clientId });
        expect((await introspectAt(C(), issued.access)).json).toMatchObject({ active: true, username: SEED.username });

        const refreshed = await refreshAt(C(), issued.refresh);
        expect(isTokenResponse(refreshed), refreshed.text).toBe(true);
        const next = tokens(refreshed);
        expect((await userinfoAt(A(), next.access)).status).toBe(200);
        // The rotation on C revoked the previous access token and used the previous refresh token, for everyone.
        expect((await userinfoAt(A(), issued.access)).status).toBe(401);
        expect((await introspectAt(B(), issued.refresh)).json).toEqual({ active: false });

        const revoked = await revokeAt(B(), next.refresh);
        expect(revoked.status).toBe(200);
        for (const base of [A(), C(), B()]) {
          const refused = await userinfoAt(base, next.access);
          expect(refused.status).toBe(401);
          expect(refused.json).toMatchObject({ error: 'invalid_token' });
          const refresh = await refreshAt(base, next.refresh);
          expect(refresh.status).toBe(400);
          expect(refresh.json).toMatchObject({ error: 'invalid_grant' });
          expect((await introspectAt(base, next.access)).json).toEqual({ active: false });
        }
      },
    );

    it(
      'lets exactly one of 30 parallel refreshes of one token, spread over the three instances, succeed: 29 × ' +
        '400 invalid_grant, never a 5xx (3 rounds)',
      async () => {
        // Every instance verifies the client's chosen secret (argon2id) once and remembers it: warm them all,
        // so the race is between rotations, not between hashes.
        await Promise.all(all().map(login));
        for (let round = 0; round < 3; round++) {
          const issued = await login(all()[round]!);
          const results = await Promise.all(
            Array.from({ length: PARALLEL }, (_, i) => refreshAt(all()[i % 3]!, issued.refresh)),
          );
          const statuses = results.map((r) => r.status);
          expect(
            statuses.filter((s) => s >= 500),
            statuses.join(' '),
          ).toEqual([]);
          const winners = results.filter((r) => r.status === 200);
          expect(winners).toHaveLength(1);
          expect(isTokenResponse(winners[0]!)).toBe(true);
          const losers = results.filter((r) => r.status === 400);
          expect(losers).toHaveLength(PARALLEL - 1);
          for (const loser of losers) {
            expect(isRfcError(loser)).toBe(true);
            expect(loser.json!.error).toBe('invalid_grant');
          }
          // The losers were reuse (RFC 9700 §4.14.2, grace window off): the family is revoked on every
          // instance, the winner's new pair included.
          const won = tokens(winners[0]!);
          for (const base of all()) {
            expect((await userinfoAt(base, won.access)).status).toBe(401);
            expect((await refreshAt(base, won.refresh)).status).toBe(400);
          }
        }
      },
    );

    it(
      "honours a revocation on one instance at once on every instance, and in the kit's cache within its " +
        'staleness bound',
      async () => {
        const issued = await login(B());
        const balance = (token: string) =>
          request(`${kit!.url}/balance`, { headers: { authorization: `Bearer ${token}` } });
        // The kit now holds the token as valid in its cache; every instance accepts it.
        expect((await balance(issued.access)).status).toBe(200);
        for (const base of all()) expect((await userinfoAt(base, issued.access)).status).toBe(200);

        const revoked = await revokeAt(A(), issued.access);
        expect(revoked.status).toBe(200);
        const revokedAt = performance.now();

        // No server-side cache: the very next request, on any instance, sees the revocation.
        const after = await Promise.all(
          all().flatMap((base) => [
            userinfoAt(base, issued.access),
            introspectAt(base, issued.access),
            refreshAt(base, issued.refresh),
          ]),
        );
        for (let i = 0; i < after.length; i += 3) {
          expect(after[i]!.status).toBe(401);
          expect(after[i]!.json).toMatchObject({ error: 'invalid_token' });
          expect(after[i + 1]!.json).toEqual({ active: false });
          // RFC 7009 §2.1: revoking the access token revoked its grant, so the refresh token died with it.
          expect(after[i + 2]!.status).toBe(400);
          expect(after[i + 2]!.json).toMatchObject({ error: 'invalid_grant' });
        }

        // The kit: admitted for at most the staleness bound, counted from when its cached lookup started
        // (which was before the revocation); remember when the last admitted request was *sent*.
        let status = 200;
        let lastAdmittedSentAt = revokedAt;
        while (status === 200 && performance.now() - revokedAt < STALENESS_MS * 3) {
          const response = await balance(issued.access);
          status = response.status;
          if (status === 200) {
            lastAdmittedSentAt = response.sentAt;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
        expect(status).toBe(401);
        expect(lastAdmittedSentAt - revokedAt).toBeLessThanOrEqual(STALENESS_MS);
        for (let i = 0; i < 3; i++) expect((await balance(issued.access)).status).toBe(401);
      },
    );
  });
} else {
  describe.skip('three oauthd processes on one PostgreSQL database (PostgreSQL unreachable)', () => {
    it('share tokens, single use and revocations across instances', () => {});
  });
}
