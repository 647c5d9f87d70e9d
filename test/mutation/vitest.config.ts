/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the project's own, plus the
 * reporter that turns a test file that cannot load into a failed test (see
 * load-failure-reporter.ts), and no shrinking of failed properties (fc-mutation.setup.ts). The
 * everyday `npm test` does not use it.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';
import LoadFailureAsFailedTest from './load-failure-reporter.js';

export default mergeConfig(base, defineConfig({
  test: {
    reporters: ['default', new LoadFailureAsFailedTest()],
    // after the project's own setup file, whose global settings it extends
    setupFiles: ['test/mutation/fc-mutation.setup.ts'],
  },
}));
