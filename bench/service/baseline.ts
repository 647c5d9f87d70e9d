/**
 * The code the "service under load" section compares against: this repository at BASELINE, the
 * last commit before the service was reworked for load (issue 8), unpacked once into bench/out
 * with `git archive` (the repository's history is not touched) and run with this tree's
 * node_modules. Both trees are then measured by the same scripts in the same run, so the table
 * shows today's behaviour and the old one side by side on the same machine and moment.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** main before issue 8 ("API tests share the two-project fixture instead of defining it twice"). */
export const BASELINE = '88d3d39';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** This tree's root, and the baseline's (undefined, with the reason, when it cannot be had). */
export function sourceTrees(): { now: string; before: string | undefined; why?: string } {
  const now = ROOT.replace(/\/$/, '');
  const dir = fileURLToPath(new URL(`../out/baseline-${BASELINE}/`, import.meta.url)).replace(/\/$/, '');
  try {
    if (!existsSync(`${dir}/src/api/http/server.ts`)) {
      mkdirSync(dir, { recursive: true });
      const archive = execFileSync('git', ['-C', now, 'archive', BASELINE, 'src', 'package.json'], { maxBuffer: 1 << 28 });
      execFileSync('tar', ['-x', '-C', dir], { input: archive });
    }
    if (!existsSync(`${dir}/node_modules`)) symlinkSync(`${now}/node_modules`, `${dir}/node_modules`);
    return { now, before: dir };
  } catch (error) {
    return { now, before: undefined, why: `the baseline ${BASELINE} could not be unpacked (${(error as Error).message.split('\n')[0]})` };
  }
}
