import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and hash real passwords: two cores, so two files at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
