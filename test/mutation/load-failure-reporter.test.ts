/** The mutation runs' reporter: a test file that failed outside its tests gets one failed test. */
import { describe, expect, it } from 'vitest';
import LoadFailureAsFailedTest, { LOAD_FAILURE_TEST_NAME, markLoadFailure, type FileLike, type TaskLike } from './load-failure-reporter.js';

const test = (state: string): TaskLike => ({ type: 'test', name: `a ${state} test`, mode: 'run', result: { state } });
const file = (state: string | undefined, tasks: TaskLike[], message?: string): FileLike => ({
  type: 'suite',
  id: 'f1',
  name: 'test/x.test.ts',
  filepath: '/repo/test/x.test.ts',
  mode: 'run',
  tasks,
  result: state === undefined ? undefined : { state, errors: message === undefined ? undefined : [{ message }] },
});

describe('markLoadFailure', () => {
  it('a file that failed to load, with no tests, gets one failed test carrying its error', () => {
    const f = file('fail', [], 'Invalid typed array length: 0.5');
    expect(markLoadFailure(f)).toBe(true);
    expect(f.tasks).toHaveLength(1);
    expect(f.tasks[0]).toMatchObject({
      type: 'test',
      name: LOAD_FAILURE_TEST_NAME,
      mode: 'run',
      file: f,
      result: { state: 'fail', errors: [{ message: '/repo/test/x.test.ts failed to load: Invalid typed array length: 0.5' }] },
    });
  });

  it('a failed file whose suite failed before any test failed gets one too; a file without an error message still fails', () => {
    const f = file('fail', [{ type: 'suite', name: 'describe', mode: 'run', tasks: [test('skip')], result: { state: 'fail' } }]);
    expect(markLoadFailure(f)).toBe(true);
    expect(f.tasks.at(-1)!.result!.errors![0].message).toBe('/repo/test/x.test.ts failed to load: the test file failed outside any test');
  });

  it('leaves alone a file that passed, has not run, or already has a failed test (at any depth)', () => {
    const files = [
      file('pass', [test('pass')]),
      file(undefined, []),
      file('fail', [test('pass'), test('fail')]),
      file('fail', [{ type: 'suite', name: 'd', mode: 'run', tasks: [test('pass'), test('fail')] }]),
    ];
    for (const f of files) {
      const before = structuredClone(f);
      expect(markLoadFailure(f)).toBe(false);
      expect(f).toEqual(before);
    }
  });

  it('the reporter marks the files of the vitest state it was given when the run ends', () => {
    const files = [file('fail', []), file('pass', [test('pass')])];
    const reporter = new LoadFailureAsFailedTest();
    reporter.onInit({ state: { getFiles: () => files } } as never);
    reporter.onTestRunEnd([]);
    expect(files.map((f) => f.tasks.map((t) => t.result!.state))).toEqual([['fail'], ['pass']]);
  });
});
