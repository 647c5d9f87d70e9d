/**
 * `npm run bench [-- --quick] [-- --only operations,status,service]`
 *
 * Runs each section in its own Node process (memory and snapshots with --expose-gc), prints the
 * machine line and one markdown table per section with medians, ratios against the baselines
 * measured in the same run and PASS/MISS against the targets, and writes
 * bench/out/results.json and bench/out/results.md (the README's Performance section).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machine, machineLine } from './machine.js';
import { checksTable, markdown, sectionMarkdown, type Check, type SectionResult } from './report.js';

const SECTIONS = ['operations', 'status', 'batch', 'memory', 'snapshots', 'service', 'durability', 'engines'] as const;
const NEEDS_GC = new Set(['memory', 'snapshots']);

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : [...SECTIONS];
const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknown.length > 0) {
  console.error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  process.exit(2);
}

const out = new URL('./out/', import.meta.url);
mkdirSync(out, { recursive: true });
const m = machine();
const header = `Machine: ${machineLine(m)}${quick ? ' — quick run (smaller sizes, shorter budgets): a smoke test, not figures to quote' : ''}`;
console.log(`# pipestate benchmarks\n\n${header}\n`);

const started = performance.now();
const results: SectionResult[] = [];
for (const section of SECTIONS.filter((s) => only.includes(s))) {
  const t0 = performance.now();
  console.error(`[${section}]`);
  const child = spawnSync(
    process.execPath,
    [
      ...(NEEDS_GC.has(section) ? ['--expose-gc'] : []),
      // Room for 10^6-node trees of every subject of a comparison at once; the machine has it.
      '--max-old-space-size=12288',
      '--import',
      'tsx',
      fileURLToPath(new URL('./section.ts', import.meta.url)),
      section,
      ...(quick ? ['--quick'] : []),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (child.status !== 0) {
    console.error(`section ${section} failed (exit ${child.status ?? child.signal})`);
    process.exitCode = 1;
    continue;
  }
  const result = JSON.parse(readFileSync(new URL(`${section}.json`, out), 'utf8')) as SectionResult;
  results.push(result);
  console.log(`${sectionMarkdown(result)}\n`);
  console.error(`[${section}] ${((performance.now() - t0) / 1e3).toFixed(0)} s`);
}

const checks: Check[] = results.flatMap((r) => r.checks);
const summary = checks.length > 0 ? markdown({ ...checksTable(checks), caption: 'All targets' }) : '';
const total = (performance.now() - started) / 1e3;
console.log(`${summary}\n\nTotal ${total.toFixed(0)} s.`);

const md = `${[header, ...results.map(sectionMarkdown), summary].filter(Boolean).join('\n\n')}\n`;
writeFileSync(new URL('results.md', out), md);
writeFileSync(new URL('results.json', out), JSON.stringify({ machine: m, quick, seconds: total, results }, null, 1));
console.error(`wrote bench/out/results.md and bench/out/results.json`);
