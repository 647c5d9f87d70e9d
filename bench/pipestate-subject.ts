/**
 * pipestate as a benchmark subject: a Store holding one task, driven through its public
 * `apply`, in two variants. `transient` applies a batch with no snapshot in between, so the run
 * shares one path copy; `reader` takes a snapshot after every operation, as a reader polling
 * between the orchestrator's reports would, so every operation copies its trie path.
 *
 * The two variants drive one store and one operation sequence, taking turns: bringing a 10^6-node
 * task to a workload's starting state takes seconds, and it is the same state for both.
 */
import { MACHINE_OPERATIONS, type Operation } from '../src/lifecycle/index.js';
import type { NodeDefinition } from '../src/model/index.js';
import { Store, type Snapshot } from '../src/store/index.js';
import type { Subject } from './subject.js';
import type { Batch, OpSource } from './workloads.js';

const NAMES = MACHINE_OPERATIONS as readonly Operation[];

export interface PipestateOptions {
  readonly rerunLimit?: number;
  readonly clock?: () => number;
}

/**
 * No quota in the way: the largest trees pass a project's default node quota, and a long random
 * run ends more attempts than a project keeps by default. (The per-node history cap stays:
 * dropping the oldest attempt is part of the cost.)
 */
const UNLIMITED = Number.MAX_SAFE_INTEGER;
export const UNBOUNDED = { default: { maxNodes: UNLIMITED, maxHistories: UNLIMITED, maxExDataBytes: UNLIMITED } };

/** A store with one project and one task (id "1") holding the definition. */
export function storeWith(definition: NodeDefinition, options: PipestateOptions = {}): Store {
  const store = new Store({ ...options, limits: { maxNodes: 2_000_000 }, quotas: UNBOUNDED });
  store.createProject({ id: '1', bk_biz_id: '1', name: 'bench' });
  store.createTask({ id: '1', project_id: '1', name: 'bench', pipeline: definition });
  return store;
}

export class PipestateTransient implements Subject {
  constructor(readonly store: Store) {}

  run(batch: Batch): void {
    const { ids, ops, length } = batch;
    const store = this.store;
    for (let k = 0; k < length; k++) store.apply('1', ids[k], NAMES[ops[k]]);
  }

  applyAll(ids: readonly string[], ops: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) this.store.apply('1', ids[k], NAMES[ops[k]]);
  }
}

export class PipestateReader implements Subject {
  /** the reader's latest snapshot: held, so the next write must copy around it */
  last: Snapshot | undefined;
  constructor(readonly store: Store) {}

  run(batch: Batch): void {
    const { ids, ops, length } = batch;
    const store = this.store;
    for (let k = 0; k < length; k++) {
      store.apply('1', ids[k], NAMES[ops[k]]);
      this.last = store.snapshot();
    }
  }

  applyAll(ids: readonly string[], ops: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) this.store.apply('1', ids[k], NAMES[ops[k]]);
  }
}

/**
 * One store and one operation source shared by the two variants. Each variant asks `fresh()` for
 * them; a new pair is built only when the shared sequence has run out (whichever variant found
 * it), so the other variant then picks up the same new pair.
 */
export class SharedPipestate {
  private store: Store | undefined;
  private source: OpSource | undefined;
  private exhausted = false;

  constructor(private readonly build: () => { store: Store; source: OpSource }) {}

  fresh(variant: 'transient' | 'reader'): { subject: Subject; source: OpSource } {
    if (!this.store || this.exhausted) {
      ({ store: this.store, source: this.source } = this.build());
      this.exhausted = false;
    }
    const inner = this.source!;
    const source: OpSource = {
      fill: (batch) => {
        // A source left behind by a rebuild is done: its measurer must ask for the new pair.
        if (inner !== this.source) return false;
        const more = inner.fill(batch);
        if (!more) this.exhausted = true;
        return more;
      },
    };
    return { subject: variant === 'reader' ? new PipestateReader(this.store) : new PipestateTransient(this.store), source };
  }
}
