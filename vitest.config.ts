import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'runtime/**/*.test.ts',
      'cli/**/*.test.ts',
      'tests/unit/**/*.test.ts',
      'tests/integration/**/*.test.ts',
      'tests/layers/**/*.test.ts',
      'sw/**/*.test.ts',
      'app/**/*.test.ts',
      'tests/fuzz/**/*.test.ts',
    ],
    testTimeout: 30_000,
    // The tests that spawn bin/berth.js run the CLI built into dist-cli/ (built or rebuilt when the
    // run starts), never the tsx fallback, even if a source changes while they run.
    globalSetup: ['tests/support/build-cli.ts'],
    env: { BERTH_CLI: 'dist' },
    pool: 'forks',
  },
});
