import { defineConfig } from 'vitest/config';

// Browser tests: one file at a time (each starts Chromium), generous timeouts for a 2-core machine.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
