/**
 * Opens a data directory in a fresh process, as a restart would, and prints what recovery took
 * as JSON: the durability section runs it so that its own heap (the engine that wrote the
 * journal) weighs nothing on the figure.
 *
 *   node --import tsx bench/recover.ts <dir>
 */
import { openEngine } from '../src/api/durable-engine.js';

const t0 = performance.now();
const engine = await openEngine({ dataDir: process.argv[2], durability: 'off', rerunLimit: 1e9 });
const openS = (performance.now() - t0) / 1000;
const { seconds, changes, tasks, nodes, seq } = engine.recovery;
console.log(JSON.stringify({ seconds, openS, changes, tasks, nodes, seq }));
// Leave the directory as it was: no checkpoint at close.
process.exit(0);
