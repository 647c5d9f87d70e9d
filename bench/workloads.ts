/**
 * The operation sequences every subject replays. A sequence is generated outside the timed
 * region, in batches, from the tree and a seed alone: pipestate, the floor and the literal design
 * each get their own generator with the same seed and so perform the same operations in the
 * same order.
 *
 * - frontier: the pipeline's natural progress. Nodes are visited in preorder; a container is
 *   started when reached and finished after its subtree, a leaf is started and finished, one in
 *   20 fails and is retried, one in 50 fails and is skipped. Consecutive operations touch
 *   neighbouring records, as an orchestrator running a flow does.
 * - random: after a prelude that starts every container and spreads the leaves over CREATED,
 *   READY, RUNNING, FAILED and FINISHED, each batch applies one operation kind to uniformly random
 *   leaves that can take it. The kinds rotate through a cycle that leaves every pool the size it
 *   was, so the workload runs forever with the same mix.
 */
import { MACHINE_OPERATIONS, type MachineOperation } from '../src/lifecycle/index.js';
import { below, seeded, type Rng } from './rng.js';
import type { FlatTree } from './trees.js';

export const OP: Readonly<Record<MachineOperation, number>> = Object.fromEntries(MACHINE_OPERATIONS.map((op, i) => [op, i])) as Record<
  MachineOperation,
  number
>;

/** A batch of operations: node ids and operation codes (indices of MACHINE_OPERATIONS). */
export class Batch {
  readonly ids: string[];
  readonly ops: Uint8Array;
  length = 0;
  /** the one operation kind of a random batch; undefined for a mixed one */
  kind: MachineOperation | undefined;

  constructor(readonly capacity: number) {
    this.ids = new Array<string>(capacity).fill('');
    this.ops = new Uint8Array(capacity);
  }

  push(id: string, op: number): void {
    this.ids[this.length] = id;
    this.ops[this.length++] = op;
  }
}

export interface OpSource {
  /** Fills the batch (from empty). Returns false when the sequence is exhausted and the subject must start over. */
  fill(batch: Batch): boolean;
}

/** The frontier sequence, generated lazily. One pass is about 2.2 operations per node. */
export class FrontierSource implements OpSource {
  private i = 0;
  private leafNo = 0;
  private readonly open: number[] = [];
  private pending: number[] = [];

  constructor(private readonly tree: FlatTree) {}

  fill(batch: Batch): boolean {
    batch.length = 0;
    batch.kind = undefined;
    const { ids } = this.tree;
    while (batch.length < batch.capacity) {
      if (this.pending.length === 0 && !this.advance()) return batch.length > 0;
      const [index, op] = [this.pending.shift()!, this.pending.shift()!];
      batch.push(ids[index], op);
    }
    return true;
  }

  /** Queues the operations of the next step of the walk; false at the end of the pass. */
  private advance(): boolean {
    const { size, end, container } = this.tree;
    const top = this.open[this.open.length - 1];
    if (top !== undefined && (this.i >= size || end[top] <= this.i)) {
      this.open.pop();
      this.pending.push(top, OP.finish);
      return true;
    }
    if (this.i >= size) return false;
    const i = this.i++;
    if (container[i]) {
      this.open.push(i);
      this.pending.push(i, OP.start);
      return true;
    }
    const n = this.leafNo++;
    if (n % 50 === 7) this.pending.push(i, OP.start, i, OP.fail, i, OP.skip);
    else if (n % 20 === 3) this.pending.push(i, OP.start, i, OP.fail, i, OP.retry, i, OP.start, i, OP.finish);
    else this.pending.push(i, OP.start, i, OP.finish);
    return true;
  }
}

/** Leaf pools of the random workload, by what the leaf can take next. */
const STARTABLE = 0; // CREATED or READY
const RUNNING = 1;
const FAILED = 2;
const FINISHED = 3;

/**
 * One rotation of the random workload: (operation, from pool, to pool). Every pool gives and
 * receives the same number of leaves per rotation, so the mix is stationary.
 */
const CYCLE: readonly (readonly [MachineOperation, number, number])[] = [
  ['reenter', FINISHED, RUNNING],
  ['fail', RUNNING, FAILED],
  ['retry', FAILED, STARTABLE],
  ['start', STARTABLE, RUNNING],
  ['fail', RUNNING, FAILED],
  ['skip', FAILED, FINISHED],
  ['reenter', FINISHED, RUNNING],
  ['finish', RUNNING, FINISHED],
];
export const RANDOM_CYCLE_LENGTH = CYCLE.length;

class Pool {
  readonly items: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.items = new Int32Array(capacity);
  }
  add(v: number): void {
    this.items[this.size++] = v;
  }
  take(rng: Rng): number {
    const j = below(rng, this.size);
    const v = this.items[j];
    this.items[j] = this.items[--this.size];
    return v;
  }
}

export class RandomSource implements OpSource {
  private readonly rng: Rng;
  private readonly pools: Pool[];
  private step = 0;
  private readonly moved: number[] = [];
  /** the operations that bring a fresh tree to the workload's starting state */
  readonly prelude: { readonly ids: string[]; readonly ops: number[] };

  constructor(
    private readonly tree: FlatTree,
    seed: number,
  ) {
    this.rng = seeded(seed);
    const leaves = tree.leaves.length;
    this.pools = [0, 1, 2, 3].map(() => new Pool(leaves));
    this.prelude = { ids: [], ops: [] };
    const pre = (index: number, op: number) => {
      this.prelude.ids.push(tree.ids[index]);
      this.prelude.ops.push(op);
    };
    for (let i = 0; i < tree.size; i++) if (tree.container[i]) pre(i, OP.start);
    // A random order of the leaves, then cut into the starting distribution:
    // 10% CREATED, 10% READY (failed and retried), 30% RUNNING, 10% FAILED, 40% FINISHED.
    const order = Int32Array.from(tree.leaves);
    for (let k = order.length - 1; k > 0; k--) {
      const j = below(this.rng, k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    order.forEach((leaf, k) => {
      const band = Math.floor((k * 10) / order.length);
      if (band === 0) {
        this.pools[STARTABLE].add(leaf);
        return;
      }
      pre(leaf, OP.start);
      if (band === 1) {
        pre(leaf, OP.fail);
        pre(leaf, OP.retry);
        this.pools[STARTABLE].add(leaf);
      } else if (band <= 4) {
        this.pools[RUNNING].add(leaf);
      } else if (band === 5) {
        pre(leaf, OP.fail);
        this.pools[FAILED].add(leaf);
      } else {
        pre(leaf, OP.finish);
        this.pools[FINISHED].add(leaf);
      }
    });
  }

  /** The largest batch every pool can always supply (the smallest pool is 10% of the leaves). */
  static maxBatch(tree: FlatTree): number {
    return Math.max(1, Math.floor(tree.leaves.length / 10) - 1);
  }

  fill(batch: Batch): boolean {
    const [op, from, to] = CYCLE[this.step];
    this.step = (this.step + 1) % CYCLE.length;
    batch.length = 0;
    batch.kind = op;
    const source = this.pools[from];
    this.moved.length = 0;
    for (let k = 0; k < batch.capacity; k++) {
      const leaf = source.take(this.rng);
      this.moved.push(leaf);
      batch.push(this.tree.ids[leaf], OP[op]);
    }
    // Moved only after the batch, so one batch never touches a leaf twice.
    for (const leaf of this.moved) this.pools[to].add(leaf);
    return true;
  }
}

/**
 * The first `fraction` of a frontier pass, as arrays: the driver that brings a fresh task to a
 * realistic state for the queries (that share of it run, a frontier of running containers, the
 * rest not reached yet).
 */
export function frontierPrefix(tree: FlatTree, fraction: number): { ids: string[]; ops: number[] } {
  const all = { ids: [] as string[], ops: [] as number[] };
  const source = new FrontierSource(tree);
  const batch = new Batch(4096);
  while (source.fill(batch)) {
    for (let k = 0; k < batch.length; k++) {
      all.ids.push(batch.ids[k]);
      all.ops.push(batch.ops[k]);
    }
  }
  const n = Math.round(all.ids.length * fraction);
  return { ids: all.ids.slice(0, n), ops: all.ops.slice(0, n) };
}
