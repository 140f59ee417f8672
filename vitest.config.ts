import { configDefaults, defineConfig } from 'vitest/config';

// `OAUTHD_TEST_STORE=postgres vitest run test/integration` (npm run test:postgres) runs the integration
// suite on PostgreSQL. test/integration/cli.test.ts is SQLite-only (it checks the file the CLI creates) and
// stays out of that pass. Without a reachable PostgreSQL the pass is skipped with a loud warning, unless
// OAUTHD_REQUIRE_POSTGRES=1 (CI), where it fails.
const onPostgres = process.env.OAUTHD_TEST_STORE === 'postgres';

export default defineConfig(async () => {
  const skip = onPostgres && !(await (await import('./test/helpers/postgres.js')).postgresAvailable('the integration tests on PostgreSQL'));
  return {
    test: {
      include: skip ? [] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: onPostgres ? [...configDefaults.exclude, 'test/integration/cli.test.ts'] : configDefaults.exclude,
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
