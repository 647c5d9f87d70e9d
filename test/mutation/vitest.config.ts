/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the project's own, plus
 * - the reporter that turns a test file that cannot load into a failed test
 *   (load-failure-reporter.ts);
 * - no shrinking of failed properties (fc-mutation.setup.ts);
 * - longer test timeouts: instrumented code under `nice` on a shared machine runs many times
 *   slower, and a test that times out in the dry run stops the whole run;
 * - without the suites whose code under test runs in child processes or a browser, where no
 *   mutant is ever active: the in-process suites of the same code are what kill its mutants,
 *   and these cost minutes per static mutant (most of the lifecycle table's mutants are static:
 *   they run every test file). The CLI driven as a command, the
 *   crash and storage-fault runs (SIGKILLed services), the packed tarball (it rebuilds the
 *   native module, about two minutes), the chaos run of several instances, the web view in
 *   Chromium. Every other test of the CLI, the journal and the shared store runs in process.
 * The everyday `npm test` does not use it.
 */
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';
import LoadFailureAsFailedTest from './load-failure-reporter.js';
import { SCOPE_TESTS } from '../../stryker.config.mjs';

const scopeTests: readonly string[] | undefined = SCOPE_TESTS[process.env.PIPESTATE_MUTATION_SCOPE ?? ''];

const config = mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        ...configDefaults.exclude,
        'test/cli/cli.test.ts',
        'test/cli/durable.test.ts',
        'test/journal/crash.test.ts',
        'test/journal/storage-faults.test.ts',
        'test/packaging/pack.test.ts',
        'test/shared/chaos.test.ts',
        'test/web/browser.test.ts',
      ],
      reporters: ['default', new LoadFailureAsFailedTest()],
      // after the project's own setup file, whose global settings it extends
      setupFiles: ['test/mutation/fc-mutation.setup.ts'],
      testTimeout: 900_000,
      hookTimeout: 300_000,
    },
  }),
);

// A scope's own suites where stryker.config.mjs names them: in place of the project's include
// (mergeConfig would add to it).
if (scopeTests !== undefined && config.test) config.test.include = [...scopeTests];

export default config;
