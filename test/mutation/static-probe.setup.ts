/**
 * Which test files run mutated code outside any test (docs/testing.md, "Static mutants"). Not
 * part of any run: copied into a Stryker sandbox (whose src/ is instrumented) and loaded as a
 * setup file there, it does what Stryker's own setup does (each test's coverage under the test's
 * id) and, after each file, appends to $STATIC_PROBE_OUT one line: the file and the ids of the
 * mutants it reached outside its tests (module level, describe bodies, beforeAll, timers that
 * fire between tests). Every mutant on such a line is static: Stryker runs all tests for it.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach } from 'vitest';

interface StrykerNamespace {
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}
const global = globalThis as { __stryker__?: StrykerNamespace };
const ns: StrykerNamespace = global.__stryker__ ?? {};
global.__stryker__ = ns;
ns.mutantCoverage = { static: {}, perTest: {} };
const out = process.env.STATIC_PROBE_OUT ?? 'static-probe.jsonl';
let file = '?';

beforeEach((context) => {
  file = context.task.file.filepath;
  ns.currentTestId = context.task.id;
});
afterEach(() => {
  ns.currentTestId = undefined;
});
afterAll(() => {
  appendFileSync(out, `${JSON.stringify({ file, ids: Object.keys(ns.mutantCoverage?.static ?? {}) })}\n`);
});
