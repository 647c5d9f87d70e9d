/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the project's own, plus
 * - the reporter that turns a test file that cannot load into a failed test
 *   (load-failure-reporter.ts);
 * - no shrinking of failed properties (fc-mutation.setup.ts);
 * - longer test timeouts: instrumented code under `nice` on a shared machine runs many times
 *   slower, and a test that times out in the dry run stops the whole run;
 * - without test/cli/cli.test.ts: it drives the CLI in child processes, where no mutant is ever
 *   active, so it cannot kill one and only costs time (the other CLI tests run in process).
 * The everyday `npm test` does not use it.
 */
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';
import LoadFailureAsFailedTest from './load-failure-reporter.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [...configDefaults.exclude, 'test/cli/cli.test.ts'],
      reporters: ['default', new LoadFailureAsFailedTest()],
      // after the project's own setup file, whose global settings it extends
      setupFiles: ['test/mutation/fc-mutation.setup.ts'],
      testTimeout: 900_000,
      hookTimeout: 300_000,
    },
  }),
);
