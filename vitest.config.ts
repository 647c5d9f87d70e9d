import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fast-check's run counts and replay settings, from test/fc-runs.ts (FC_RUNS scales them all).
    setupFiles: ['test/fc-setup.ts'],
    // Property suites run thousands of cases; the default 5 s is for unit tests.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
