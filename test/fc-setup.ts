/**
 * vitest setupFiles entry: fast-check's global settings for every test file (test/fc-runs.ts).
 * A property's own `numRuns` (from `runs(…)`) wins over the default set here; a seed given by
 * FC_SEED applies to every property, so pick one test with `-t` when replaying.
 */
import fc from 'fast-check';
import { replayFromEnv, runs } from './fc-runs.js';

fc.configureGlobal({ numRuns: runs('default'), ...replayFromEnv() });
