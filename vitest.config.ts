import { configDefaults, defineConfig } from 'vitest/config';
import { CHROMIUM, systemProgram } from './test/helpers/tools.js';

// `OAUTHD_TEST_STORE=postgres vitest run test/integration test/fuzz` (npm run test:postgres) runs the
// integration and fuzz suites on PostgreSQL (except SQLITE_PASS_ONLY below). Without a reachable PostgreSQL
// the pass is skipped with a loud warning, unless OAUTHD_REQUIRE_POSTGRES=1 (CI), where it fails.
const onPostgres = process.env.OAUTHD_TEST_STORE === 'postgres';

/**
 * Files the PostgreSQL pass leaves out: they run on PostgreSQL by themselves already in the first pass
 * (multi-instance, database faults, graceful shutdown), are SQLite-only (cli, crash safety), or test
 * nothing of the store (HTTP limits, the brute-force throttle, the cluster, the OpenAPI document, the fuzz
 * oracle on synthetic answers, the CLI's flow options and their messages — the store behind them is the
 * contract suite's, on PostgreSQL too).
 */
const SQLITE_PASS_ONLY = [
  'test/integration/cli.test.ts',
  'test/integration/cli-client-flows.test.ts',
  'test/integration/crash-safety.test.ts',
  'test/integration/multi-instance-postgres.test.ts',
  'test/integration/database-faults.test.ts',
  'test/integration/graceful-shutdown.test.ts',
  'test/integration/limits.test.ts',
  'test/integration/brute-force.test.ts',
  'test/integration/workers.test.ts',
  'test/integration/openapi.test.ts',
  'test/fuzz/oracle.test.ts',
];

/**
 * test/browser/ drives Debian's Chromium. Checked here, once per run, so a machine without it reads one
 * SKIPPED line and the files are left out; with OAUTHD_REQUIRE_CHROMIUM=1 (CI) its absence fails the run.
 * The PostgreSQL pass does not run them: they test what a browser makes of the pages (forms, redirects, CSP,
 * the keyboard), and the store behind the same requests is covered on PostgreSQL by test/integration.
 */
const withoutChromium = (): boolean =>
  systemProgram(CHROMIUM, 'the browser tests (test/browser/, Debian chromium driven by playwright-core)') === null;

export default defineConfig(async () => {
  const skip =
    onPostgres &&
    !(await (await import('./test/helpers/postgres.js')).postgresAvailable('the integration tests on PostgreSQL'));
  const leftOut = [
    ...configDefaults.exclude,
    ...(onPostgres ? SQLITE_PASS_ONLY : []),
    ...(!onPostgres && withoutChromium() ? ['test/browser/**'] : []),
  ];
  return {
    test: {
      include: skip ? [] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: leftOut,
      passWithNoTests: skip,
      pool: 'forks',
      testTimeout: 30_000,
      hookTimeout: 30_000,
      // Integration tests start real servers and hash real passwords: two cores, so two files at a time.
      maxWorkers: 2,
      minWorkers: 1,
    },
  };
});
