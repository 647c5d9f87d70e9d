/**
 * Section 5: snapshots. (1) What taking one costs: the `snapshot()` call itself, timed right after
 * an operation (so it is not the cached one), and what it adds to the next operation, which must
 * copy its trie path instead of writing in place (reader minus transient, in the operations
 * table); against the floor's only way to a consistent view, copying every record. (2) The heap
 * retained by 100 snapshots taken between operations and all held.
 *
 * Runs with --expose-gc. Each task is brought to the random workload's starting state (every
 * container RUNNING, leaves spread over every state) and the operations between snapshots are
 * random leaves: a sequence that never runs out, whatever the size.
 */
import { Floor } from './baselines/floor.js';
import { shapeOf, type BenchConfig } from './config.js';
import { heapUsed, requireGc } from './heap.js';
import { OpMeasurer, compare, median } from './measure.js';
import { PipestateTransient, SharedPipestate, storeWith } from './pipestate-subject.js';
import { bytes, ns, progress, ratio, type SectionResult } from './report.js';
import type { Snapshot } from '../src/store/index.js';
import { nestedPipeline, pow10 } from './trees.js';
import { Batch, RandomSource, type OpSource } from './workloads.js';

const HELD = 100;
const SEED = 7;

interface Row {
  readonly nodes: number;
  /** ns per snapshot() call right after an operation */
  readonly call: number;
  /** ns a snapshot between operations adds per operation: reader minus transient, medians */
  readonly deferred: number;
  /** ns to copy the floor's records once */
  readonly floorCopy: number;
  /** bytes retained per held snapshot, beyond what the operations themselves keep */
  readonly retainedPer: number;
  /** bytes one floor copy retains */
  readonly floorCopyBytes: number;
}

/** Brings a subject to the random workload's starting state; returns the workload's source. */
function driven(subject: PipestateTransient | Floor, tree: ReturnType<typeof nestedPipeline>): OpSource {
  const source = new RandomSource(tree.flat, SEED);
  subject.applyAll(source.prelude.ids, source.prelude.ops);
  return source;
}

/**
 * Median ns of snapshot() right after an operation. Each call is timed alone and the timer's own
 * cost, read right after, is taken off; the median over thousands of calls keeps the odd collector
 * pause out. Warmed up first.
 */
function snapshotCall(subject: PipestateTransient, source: OpSource, calls: number): number {
  const batch = new Batch(1);
  const samples: number[] = [];
  let sink: Snapshot | undefined;
  for (let j = -2000; j < calls; j++) {
    source.fill(batch);
    subject.run(batch);
    const t0 = performance.now();
    sink = subject.store.snapshot();
    const t1 = performance.now();
    const t2 = performance.now();
    if (j >= 0) samples.push((t1 - t0 - (t2 - t1)) * 1e6);
  }
  if (sink === undefined) throw new Error('no snapshot');
  return Math.max(0, median(samples));
}

/**
 * Bytes retained per held snapshot: (heap growth over HELD operations each followed by a snapshot,
 * all held) minus (growth over HELD such operations with none held), ÷ HELD. Repeated, median.
 */
function retained(subject: PipestateTransient, source: OpSource, repeats: number): number {
  const batch = new Batch(1);
  const step = (hold: Snapshot[] | undefined) => {
    source.fill(batch);
    subject.run(batch);
    const s = subject.store.snapshot();
    hold?.push(s);
  };
  for (let j = 0; j < 10 * HELD; j++) step(undefined); // warm: nothing compiles while we read the heap
  const figures: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const h0 = heapUsed();
    for (let j = 0; j < HELD; j++) step(undefined);
    const h1 = heapUsed();
    const held: Snapshot[] = [];
    for (let j = 0; j < HELD; j++) step(held);
    const h2 = heapUsed();
    if (held.length !== HELD) throw new Error('lost a snapshot');
    // Emptied, not just left: the interpreter keeps a dead local's last value alive until the
    // slot is reused, which would hold this round's snapshots through the next round's readings.
    held.length = 0;
    figures.push((h2 - h1 - (h1 - h0)) / HELD);
  }
  return median(figures);
}

/** What a snapshot between operations adds to each: reader minus transient on one shared store, taking turns. */
async function deferredCost(tree: ReturnType<typeof nestedPipeline>, config: BenchConfig): Promise<number> {
  const shared = new SharedPipestate(() => {
    const store = storeWith(tree.definition, { rerunLimit: 1e9 });
    return { store, source: driven(new PipestateTransient(store), tree) };
  });
  const batch = () => new Batch(Math.min(256, RandomSource.maxBatch(tree.flat)));
  const transient = new OpMeasurer('transient', { fresh: () => shared.fresh('transient'), batch: batch() });
  const reader = new OpMeasurer('reader', { fresh: () => shared.fresh('reader'), batch: batch() });
  await compare([transient, reader], config);
  return reader.timing().median - transient.timing().median;
}

function floorCopy(tree: ReturnType<typeof nestedPipeline>): { time: number; bytes: number } {
  const floor = new Floor(tree.definition, 1e9);
  driven(floor, tree);
  const times: number[] = [];
  const n = tree.flat.size >= 1e6 ? 3 : tree.flat.size >= 1e5 ? 5 : 15;
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    floor.copy();
    times.push((performance.now() - t0) * 1e6);
  }
  const c0 = heapUsed();
  const kept = floor.copy();
  const size = heapUsed() - c0;
  if (kept.size !== floor.nodes.size) throw new Error('bad copy');
  return { time: median(times), bytes: size };
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  requireGc();
  const rows: Row[] = [];
  for (const nodes of config.sizes) {
    const tree = nestedPipeline(shapeOf(nodes));
    const subject = new PipestateTransient(storeWith(tree.definition, { rerunLimit: 1e9 }));
    const source = driven(subject, tree);
    heapUsed(); // a full collection first: no incremental marking steps left to land in the timed calls
    const call = snapshotCall(subject, source, config.quick ? 2000 : 20000);
    const retainedPer = retained(subject, source, config.quick ? 1 : 5);
    const copy = floorCopy(tree);
    const deferred = await deferredCost(tree, config);
    rows.push({ nodes, call, deferred, floorCopy: copy.time, retainedPer, floorCopyBytes: copy.bytes });
    progress(
      `${pow10(nodes)}: snapshot() ${ns(call)} + ${ns(deferred)} on the next op, retained ${bytes(retainedPer)} each; floor copy ${ns(copy.time)}, ${bytes(copy.bytes)}`,
    );
  }
  return {
    section: 'snapshots',
    title: 'Snapshots',
    tables: [
      {
        caption: `Taking a snapshot, and the heap ${HELD} held snapshots retain (taken between operations on random leaves)`,
        header: [
          'nodes',
          'snapshot() call',
          'path copy it causes (reader − transient)',
          'floor: copy all records',
          'copy ÷ (call + path copy)',
          'retained per held snapshot',
          `${HELD} held`,
          `floor: ${HELD} copies`,
        ],
        rows: rows.map((r) => [
          pow10(r.nodes),
          ns(r.call),
          r.deferred > 0 ? ns(r.deferred) : '≈ 0 (noise)',
          ns(r.floorCopy),
          ratio(r.floorCopy / (r.call + Math.max(r.deferred, 0))),
          bytes(r.retainedPer),
          bytes(r.retainedPer * HELD),
          bytes(r.floorCopyBytes * HELD),
        ]),
      },
    ],
    checks: [],
    notes: [
      "snapshot() is timed alone right after an operation, the timer's own cost measured and taken off, median of 20,000 calls: figures of a few tens of ns are at the timer's resolution. The rest of a snapshot's cost is deferred: the next operation copies its trie path instead of writing in place, measured here as the gap between pipestate reader and transient on random leaves (medians, taking turns on one store).",
      `Retained per held snapshot = (heap after ${HELD} operations each followed by a snapshot, all held) − (heap after ${HELD} such operations with none held), ÷ ${HELD}: the trie paths the held snapshots keep from being reused. The floor's ${HELD} copies are ${HELD} × one measured copy.`,
    ],
    raw: rows,
  };
}
