/**
 * A CPU profile of get_task_status on the whole tree (the status section's workload), the
 * profiler running only around the queries:
 *
 *   node --import tsx bench/profile-status.ts <nodes> [queries]
 *   node --import tsx bench/profile-summary.ts bench/out/status-<nodes>.cpuprofile
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { shapeOf } from './config.js';
import { drivenEngine } from './status.js';
import { nestedPipeline } from './trees.js';

const [nodesArg = '100000', queriesArg = '5'] = process.argv.slice(2);
const tree = nestedPipeline(shapeOf(Number(nodesArg)));
const { engine, next } = drivenEngine(tree);
const request = { bk_biz_id: '1', task_id: '1' };
engine.getTaskStatus(request);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
await session.post('Profiler.start');
const times: number[] = [];
for (let q = 0; q < Number(queriesArg); q++) {
  next();
  const t0 = performance.now();
  engine.getTaskStatus(request);
  times.push(performance.now() - t0);
}
const { profile } = await session.post('Profiler.stop');
const out = new URL('./out/', import.meta.url);
mkdirSync(out, { recursive: true });
const file = new URL(`status-${nodesArg}.cpuprofile`, out);
writeFileSync(file, JSON.stringify(profile));
console.log(`status ${tree.label}: ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} -> ${file.pathname}`);
