// Mutation testing (docs/testing.md). `npm run mutation` (test/mutation/run.ts) runs Stryker once
// per scope below, each with its own incremental file and report; plain `npx stryker run`
// mutates every scope in one run.
// @ts-check

/** The core: what the engine promises. api/http and cli are transport, with their own suites. */
export const SCOPES = {
  lifecycle: 'src/lifecycle/**/*.ts',
  model: 'src/model/**/*.ts',
  store: 'src/store/*.ts',
  // The journal under the store (issue 9): its own scope, twice the store's mutants.
  journal: 'src/store/journal/**/*.ts',
  query: 'src/query/**/*.ts',
  api: 'src/api/*.ts',
};
/**
 * The suites a scope is measured against, where not every suite (test/mutation/vitest.config.ts
 * reads this). The store's code is reached by almost every test in the repository, so a store
 * mutant ran ~700 tests, HTTP and PostgreSQL suites among them: Stryker estimated 4 to 10 hours
 * for the scope on two cores. It is measured against the in-process suites of the layers up to the API instead;
 * a store behaviour that only an HTTP or PostgreSQL test notices is one the store's own tests
 * should pin, so the score is, if anything, lower than against everything.
 */
const IN_PROCESS_CORE = ['lifecycle', 'model', 'store', 'query', 'policy', 'api'].map((d) => `test/${d}/**/*.test.ts`);
/**
 * The API's engines: the in-memory one is the core's, the durable and shared ones are tested by
 * the journal's and the shared store's suites. Its HTTP and CLI suites are left out for the
 * store's reason: what only they notice, test/api should pin.
 */
const API = [...IN_PROCESS_CORE, 'test/journal/**/*.test.ts', 'test/shared/**/*.test.ts'];
/**
 * The store, plus the journal's in-process suites: the store's hold for its journal (recovery,
 * rollback, whenDurable) is store code that only they reach (124 of store.ts's mutants had no
 * coverage without them). They add ~7 s to a pass.
 */
const STORE = [...IN_PROCESS_CORE, 'test/journal/**/*.test.ts'];
export const SCOPE_TESTS = { store: STORE, api: API };
const scope = process.env.PIPESTATE_MUTATION_SCOPE;
if (scope !== undefined && !(scope in SCOPES)) throw new Error(`PIPESTATE_MUTATION_SCOPE: no scope ${scope}`);
const name = scope ?? 'all';
const out = 'reports/mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The project's vitest config plus a reporter that counts a test file that fails to load as a
  // failed test: without it the runner reports such a mutant as survived (stryker-js#6150).
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  // Each mutant runs only the tests that reached it.
  coverageAnalysis: 'perTest',
  // Re-exports only: nothing to mutate.
  mutate: [...(scope === undefined ? Object.values(SCOPES) : [SCOPES[scope]]), '!src/**/index.ts'],
  // A re-run tests only mutants in changed code and mutants whose tests changed. The files are
  // gitignored (docs/testing.md says why).
  incremental: true,
  incrementalFile: `${out}/${name}.incremental.json`,
  // The machine is shared: run under `nice`, and raise this where cores are free.
  concurrency: 2,
  // Property suites take seconds; a mutant that makes one loop is caught by the timeout.
  timeoutMS: 60_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 20,
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: `${out}/${name}.html` },
  jsonReporter: { fileName: `${out}/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false },
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: 'reports/.stryker-tmp',
  cleanTempDir: true,
  // Not copied into the sandboxes: outputs, never inputs of a test.
  ignorePatterns: ['/reports', '/dist', '/bench/out', '/scratch'],
};
