/**
 * A vitest reporter for mutation runs only: a test file that fails to load counts as a failed
 * test.
 *
 * Why: @stryker-mutator/vitest-runner (9.6.x, and 10.0 too: stryker-js#6150) builds a mutant's
 * result from the tests vitest collected. A mutant that makes a module throw while it is being
 * imported (a static mutant: a table compiled at load, a constant, a top-level Map) leaves the
 * test files that import it with no tests at all, so no test failed and the runner reports the
 * mutant as *survived*, although the suite plainly catches it. This reporter runs when vitest
 * finishes, before the runner reads the results, and gives every failed file in which no test
 * failed one failed test carrying the file's own error. The same reporter makes a dry run with an
 * unloadable test file fail outright instead of silently testing less.
 */
import type { Reporter, TestModule, Vitest } from 'vitest/node';

/** The slice of a vitest task this reporter reads and writes (vitest's runner types, narrowed). */
export interface TaskLike {
  type: string;
  name: string;
  mode: string;
  result?: { state?: string; errors?: readonly { message?: string }[] };
  tasks?: TaskLike[];
}
export interface FileLike extends TaskLike {
  id: string;
  filepath: string;
  tasks: TaskLike[];
}

export const LOAD_FAILURE_TEST_NAME = '(the test file loads)';

const failedTestIn = (task: TaskLike): boolean =>
  task.type === 'test' ? task.result?.state === 'fail' : (task.tasks ?? []).some(failedTestIn);

/** Adds the failed test to `file` when the file failed and none of its tests did; true when it did. */
export function markLoadFailure(file: FileLike): boolean {
  if (file.result?.state !== 'fail' || failedTestIn(file)) return false;
  const message = file.result.errors?.[0]?.message ?? 'the test file failed outside any test';
  file.tasks.push({
    type: 'test',
    id: `${file.id}_load`,
    name: LOAD_FAILURE_TEST_NAME,
    mode: 'run',
    file,
    suite: undefined,
    meta: {},
    result: { state: 'fail', errors: [{ message: `${file.filepath} failed to load: ${message}` }] },
  } as TaskLike);
  return true;
}

export default class LoadFailureAsFailedTest implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(_modules: readonly TestModule[]): void {
    // The runner reads vitest.state's file tasks, not the reported modules: change those.
    for (const file of this.vitest?.state.getFiles() ?? []) markLoadFailure(file as unknown as FileLike);
  }
}
