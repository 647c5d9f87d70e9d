/** The one place property run counts come from. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RUNS_AT_DEFAULT, parseRuns, replayFromEnv, runOnce, runsAt } from './fc-runs.js';

describe('FC_RUNS', () => {
  it('scales every property from its count at the default 1,000, never below its minimum', () => {
    expect(runsAt('storeModel', 1000)).toBe(1000);
    expect(runsAt('queryStatus', 1000)).toBe(150);
    expect(runsAt('queryStatus', 10_000)).toBe(1500);
    expect(runsAt('apiNeverThrows', 10_000)).toBe(30_000);
    expect(runsAt('apiNeverThrows', 200)).toBe(1000); // its minimum: it counts what it reached
    expect(runsAt('apiWellFormed', 200)).toBe(300);
    expect(runsAt('default', 1000)).toBe(100);
    expect(runsAt('storeWide', 100)).toBe(10); // 5 would be too few to mean anything
    expect(runsAt('httpFuzzBytes', 1)).toBe(1);
    for (const property of Object.keys(RUNS_AT_DEFAULT) as (keyof typeof RUNS_AT_DEFAULT)[]) {
      expect(runsAt(property, 1000)).toBe(RUNS_AT_DEFAULT[property]);
    }
  });

  it('is a positive integer, 1,000 when unset', () => {
    expect([parseRuns(undefined), parseRuns(''), parseRuns('250')]).toEqual([1000, 1000, 250]);
    for (const bad of ['0', '-5', '1.5', 'many', '1e400'])
      expect(() => parseRuns(bad)).toThrow(`FC_RUNS must be a positive integer, not "${bad}"`);
  });

  it('FC_SEED and FC_PATH replay a failure; unset, nothing is pinned', () => {
    expect(replayFromEnv({})).toEqual({});
    expect(replayFromEnv({ FC_SEED: '', FC_PATH: '' })).toEqual({});
    expect(replayFromEnv({ FC_SEED: '-1075307775', FC_PATH: '235' })).toEqual({ seed: -1075307775, path: '235' });
    expect(() => replayFromEnv({ FC_SEED: 'x' })).toThrow('FC_SEED must be an integer, not "x"');
  });

  it("the setup file made the default count fast-check's global one", () => {
    expect(fc.readConfigureGlobal().numRuns).toBe(runsAt('default', parseRuns(process.env.FC_RUNS)));
  });

  it('no suite counts its own runs: no literal numRuns, no FC_RUNS read outside test/fc-runs.ts', () => {
    const suites = readdirSync('test', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== 'fc-runs.ts' && f !== 'fc-runs.test.ts')
      .map((f) => join('test', f));
    const offending = suites.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/numRuns:\s*(\d|Math\b)|process\.env\.FC_RUNS/.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offending).toEqual([]);
  });

  it('runOnce runs a shared property once when it passes, and again after it failed', () => {
    let calls = 0;
    const passing = runOnce(() => ++calls);
    expect([passing(), passing(), calls]).toEqual([1, 1, 1]);
    let attempts = 0;
    const failing = runOnce(() => {
      attempts++;
      throw new Error('property failed');
    });
    expect(failing).toThrow('property failed');
    expect(failing).toThrow('property failed');
    expect(attempts).toBe(2);
  });
});
