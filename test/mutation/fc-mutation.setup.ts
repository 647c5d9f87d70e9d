/**
 * Mutation runs only (test/mutation/vitest.config.ts): a property that fails stops at the first
 * counterexample instead of shrinking it. A mutant is killed by the failure, and nobody reads the
 * shrunk case, so shrinking would only spend the run's time.
 */
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), endOnFailure: true });
