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
    ],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
