/**
 * `npm run mutation [-- <scope> …] [stryker options]`: Stryker over the core, one scope at a time
 * (the scopes are in stryker.config.mjs), each with its own incremental file and report under
 * reports/mutation/, then the score of every scope measured so far. Exits 1 when a Stryker run
 * failed or a measured scope is below the floor.
 *
 * One scope at a time because a full run takes hours on two cores: a scope can be re-run on its
 * own after a change, and its incremental file then re-tests only what changed. Arguments that
 * are not scope names go to Stryker (`--concurrency 1`, `--force`), except `--list`: run nothing,
 * and list every mutant no test killed in the last report of the named scopes (or all).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const FLOOR = 90;
/**
 * Property run counts in mutation runs, unless FC_RUNS is set: a surviving mutant runs every test
 * that reaches it, the property suites in full, and at the default 1,000 a store scope takes
 * most of a day on two shared cores. Killed mutants fail within a few cases; a mutant that only
 * a 1,001st case would catch shows as a survivor (the score is a lower bound).
 */
const MUTATION_FC_RUNS = '200';
const OUT = 'reports/mutation';

interface Mutant {
  readonly status: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly static?: boolean;
  readonly location: {
    readonly start: { readonly line: number; readonly column: number };
    readonly end: { readonly line: number; readonly column: number };
  };
}
interface Report {
  readonly files: Readonly<Record<string, { readonly source?: string; readonly mutants: readonly Mutant[] }>>;
}

/** `file:line:column Status Mutator | original => replacement`, one line per mutant no test killed. */
export function survivorLines(report: Report): string[] {
  const out: string[] = [];
  const oneLine = (text: string): string => text.replace(/\s+/g, ' ').slice(0, 100);
  for (const [file, { source = '', mutants }] of Object.entries(report.files)) {
    const lines = source.split('\n');
    for (const m of mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const { start, end } = m.location;
      const first = lines[start.line - 1] ?? '';
      const original = start.line === end.line ? first.slice(start.column - 1, end.column - 1) : `${first.slice(start.column - 1)} …`;
      out.push(
        `${file}:${start.line}:${start.column} ${m.status} ${m.mutatorName}${m.static ? ' (static)' : ''} | ${oneLine(original)} => ${oneLine(m.replacement ?? '')}`,
      );
    }
  }
  return out;
}

/** Stryker's mutation score: detected over valid mutants (compile errors, runtime errors and ignored ones left out). */
export function scoreOf(report: Report): { score: number; detected: number; undetected: number } {
  let detected = 0;
  let undetected = 0;
  for (const file of Object.values(report.files)) {
    for (const { status } of file.mutants) {
      if (status === 'Killed' || status === 'Timeout') detected++;
      if (status === 'Survived' || status === 'NoCoverage') undetected++;
    }
  }
  return { detected, undetected, score: detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected) };
}

async function main(argv: readonly string[]): Promise<number> {
  const { SCOPES } = (await import(pathToFileURL('stryker.config.mjs').href)) as { SCOPES: Record<string, string> };
  const asked = argv.filter((a) => a in SCOPES);
  const list = argv.includes('--list');
  const passOn = argv.filter((a) => !(a in SCOPES) && a !== '--list');
  let failed = false;
  for (const scope of list ? [] : asked.length > 0 ? asked : Object.keys(SCOPES)) {
    const run = spawnSync('npx', ['stryker', 'run', ...passOn], {
      stdio: 'inherit',
      env: { FC_RUNS: MUTATION_FC_RUNS, ...process.env, PIPESTATE_MUTATION_SCOPE: scope },
    });
    if (run.status !== 0) {
      console.error(`mutation: stryker exited ${run.status} on ${scope}`);
      failed = true;
    }
  }
  let below = failed;
  console.log(`\nscope       score  detected  undetected   (floor ${FLOOR}%)`);
  for (const scope of Object.keys(SCOPES)) {
    const file = `${OUT}/${scope}.json`;
    if (!existsSync(file)) {
      console.log(`${scope.padEnd(10)}  not measured`);
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    const { score, detected, undetected } = scoreOf(report);
    below ||= score < FLOOR;
    console.log(
      `${scope.padEnd(10)} ${score.toFixed(1).padStart(5)}%  ${String(detected).padStart(8)}  ${String(undetected).padStart(10)}`,
    );
    if (list && (asked.length === 0 || asked.includes(scope))) for (const line of survivorLines(report)) console.log(`  ${line}`);
  }
  return below ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
