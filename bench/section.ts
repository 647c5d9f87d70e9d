/**
 * Runs one section in this process and writes its result to bench/out/<section>.json. run.ts
 * starts one process per section, so that one section's heap never weighs on the next one's
 * figures, and the memory sections get --expose-gc.
 *
 *   node --import tsx bench/section.ts <section> [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { configFrom } from './config.js';
import type { SectionResult } from './report.js';

export const OUT = new URL('./out/', import.meta.url);

const name = process.argv[2];
const modules: Record<string, () => Promise<{ run: (c: ReturnType<typeof configFrom>) => Promise<SectionResult> }>> = {
  operations: () => import('./operations.js'),
  status: () => import('./status.js'),
  batch: () => import('./batch.js'),
  memory: () => import('./memory.js'),
  snapshots: () => import('./snapshots.js'),
  service: () => import('./service.js'),
  durability: () => import('./durability.js'),
  engines: () => import('./journal-engines.js'),
};

const load = modules[name];
if (!load) {
  console.error(`unknown section ${name}; one of ${Object.keys(modules).join(', ')}`);
  process.exit(2);
}
const result = await (await load()).run(configFrom(process.argv.slice(3)));
mkdirSync(OUT, { recursive: true });
writeFileSync(new URL(`${name}.json`, OUT), JSON.stringify(result, null, 1));
