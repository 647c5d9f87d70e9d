/**
 * Drives one subject on one workload for a few seconds and writes a CPU profile of the operations
 * alone (the profiler starts after the tree is built, so building does not drown the hot path):
 *
 *   node --import tsx bench/profile.ts <subject> <workload> <nodes|wide:N> [seconds]
 *   node --import tsx bench/profile-summary.ts bench/out/<subject>-<workload>-<size>.cpuprofile
 *
 * subject: floor | transient | reader | literal; workload: frontier | random. For exact line
 * numbers, compile first (npx tsc --outDir bench/out/js) and run bench/out/js/bench/profile.js.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Floor } from './baselines/floor.js';
import { Literal } from './baselines/literal.js';
import { shapeOf } from './config.js';
import { PipestateReader, PipestateTransient, storeWith } from './pipestate-subject.js';
import type { Subject } from './subject.js';
import { nestedPipeline, widePipeline } from './trees.js';
import { Batch, FrontierSource, RandomSource, type OpSource } from './workloads.js';

const [subjectName = 'reader', workload = 'frontier', sizeArg = '1000000', secondsArg = '5'] = process.argv.slice(2);
const tree = sizeArg.startsWith('wide:') ? widePipeline(Number(sizeArg.slice(5))) : nestedPipeline(shapeOf(Number(sizeArg)));
const make = (): Subject => {
  switch (subjectName) {
    case 'floor':
      return new Floor(tree.definition, 1e9);
    case 'transient':
      return new PipestateTransient(storeWith(tree.definition, { rerunLimit: 1e9 }));
    case 'literal':
      return new Literal(tree.definition, 1e9);
    default:
      return new PipestateReader(storeWith(tree.definition, { rerunLimit: 1e9 }));
  }
};
const fresh = (): [Subject, OpSource] => {
  const s = make();
  if (workload === 'random') {
    const src = new RandomSource(tree.flat, 1);
    s.applyAll(src.prelude.ids, src.prelude.ops);
    return [s, src];
  }
  return [s, new FrontierSource(tree.flat)];
};
let [subject, source] = fresh();
const batch = new Batch(Math.min(256, workload === 'random' ? RandomSource.maxBatch(tree.flat) : 256));
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const until = performance.now() + Number(secondsArg) * 1e3;
let ops = 0;
let busy = 0;
while (performance.now() < until) {
  if (!source.fill(batch)) {
    [subject, source] = fresh();
    continue;
  }
  const t0 = performance.now();
  subject.run(batch);
  busy += performance.now() - t0;
  ops += batch.length;
}
const { profile } = await session.post('Profiler.stop');
const out = new URL('./out/', import.meta.url);
mkdirSync(out, { recursive: true });
const file = new URL(`${subjectName}-${workload}-${sizeArg.replace(':', '')}.cpuprofile`, out);
writeFileSync(file, JSON.stringify(profile));
console.log(`${subjectName} ${workload} ${tree.label}: ${ops} ops, ${((busy / ops) * 1e6).toFixed(0)} ns/op (mean) -> ${file.pathname}`);
