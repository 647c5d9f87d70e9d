/**
 * The floor: the least an engine can do per operation and still be correct. One plain mutable
 * record per node in a Map keyed by id, updated in place. It makes the same checks as pipestate
 * (the lifecycle table via nextStateCode, every ancestor's state, no active descendant for a
 * container's finish) and the same field updates, history included, but keeps no snapshots,
 * emits no events and returns nothing. A count of active descendants per node, kept up to date
 * on the way up, answers the finish check in O(1). (A revoke does not cascade here: no workload
 * revokes.)
 */
import { MACHINE_OPERATIONS, STATES, nextStateCode, rerunLimitMessage, type Json } from '../../src/lifecycle/index.js';
import type { NodeDefinition } from '../../src/model/index.js';
import { randomVersion } from '../../src/store/index.js';
import type { Subject } from '../subject.js';
import type { Batch } from '../workloads.js';

const S = Object.fromEntries(STATES.map((s, i) => [s, i])) as Record<(typeof STATES)[number], number>;
const ACTIVE_CODE = Uint8Array.from(STATES, (s) => (s === 'RUNNING' || s === 'READY' || s === 'SUSPENDED' ? 1 : 0));
const O = Object.fromEntries(MACHINE_OPERATIONS.map((op, i) => [op, i])) as Record<(typeof MACHINE_OPERATIONS)[number], number>;

/** An ended attempt, copied: the live record keeps changing. */
interface Attempt {
  readonly state: number;
  readonly version: string;
  readonly loop: number;
  readonly retry: number;
  readonly skip: boolean;
  readonly error_ignored: boolean;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly ex_data: Json | undefined;
}

export interface FloorNode {
  state: number;
  version: string;
  loop: number;
  retry: number;
  skip: boolean;
  error_ignored: boolean;
  started_at: number | null;
  finished_at: number | null;
  state_refresh_at: number;
  ex_data: Json | undefined;
  readonly name: string;
  readonly parent: FloorNode | null;
  /** container | root << 1 | error_ignorable << 2, as the lifecycle table reads them */
  readonly traits: number;
  /** descendants RUNNING, READY or SUSPENDED */
  active: number;
  history: Attempt[] | null;
}

export class Floor implements Subject {
  readonly nodes = new Map<string, FloorNode>();

  constructor(
    root: NodeDefinition,
    readonly rerunLimit = 100,
    readonly clock: () => number = Date.now,
  ) {
    const createdAt = clock();
    const stack: [NodeDefinition, FloorNode | null][] = [[root, null]];
    while (stack.length > 0) {
      const [def, parent] = stack.pop()!;
      const container = def.kind === 'pipeline' || def.kind === 'subprocess';
      const node: FloorNode = {
        state: S.CREATED,
        version: '',
        loop: 0,
        retry: 0,
        skip: false,
        error_ignored: false,
        started_at: null,
        finished_at: null,
        state_refresh_at: createdAt,
        ex_data: undefined,
        name: def.name ?? '',
        parent,
        traits: (container ? 1 : 0) | (parent === null ? 2 : 0) | (def.error_ignorable ? 4 : 0),
        active: 0,
        history: null,
      };
      this.nodes.set(def.id, node);
      const children = def.children ?? [];
      for (let c = children.length - 1; c >= 0; c--) stack.push([children[c], node]);
    }
  }

  run(batch: Batch): void {
    const { ids, ops, length } = batch;
    for (let k = 0; k < length; k++) this.apply(ids[k], ops[k], undefined);
  }

  applyAll(ids: readonly string[], ops: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) this.apply(ids[k], ops[k], undefined);
  }

  apply(id: string, op: number, exData: Json | undefined): FloorNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    let anc = 0;
    for (let p = n.parent; p !== null && anc !== 2; p = p.parent) {
      const s = p.state;
      if (s === S.RUNNING) continue;
      if (s === S.SUSPENDED && anc === 1) continue;
      anc = s === S.SUSPENDED ? 1 : 2;
    }
    const busy = op === O.finish && n.active > 0 ? 1 : 0;
    const ctx = n.traits | (n.loop >= this.rerunLimit ? 8 : 0);
    const to = nextStateCode(ctx, anc, busy, n.state, op);
    if (to < 0) throw new Error(`cannot ${MACHINE_OPERATIONS[op]} node ${id}: state is ${STATES[n.state]}`);
    const now = this.clock();
    switch (op) {
      case O.start:
        if (n.loop === 0) {
          n.loop = 1;
          n.version = randomVersion();
        }
        n.started_at = now;
        n.finished_at = null;
        break;
      case O.fail:
        n.finished_at = now;
        n.ex_data = exData;
        n.error_ignored = to === S.FINISHED;
        break;
      case O.forced_fail:
        n.finished_at = now;
        n.ex_data = exData;
        n.error_ignored = false;
        n.version = randomVersion();
        break;
      case O.retry:
        this.endAttempt(n);
        n.retry++;
        n.version = randomVersion();
        n.started_at = null;
        n.finished_at = null;
        n.ex_data = undefined;
        break;
      case O.skip:
        n.skip = true;
        n.retry++;
        n.version = randomVersion();
        n.finished_at = now;
        break;
      case O.reenter:
        if (to === S.FAILED) {
          n.finished_at = now;
          n.ex_data = rerunLimitMessage(this.rerunLimit);
        } else {
          this.endAttempt(n);
          n.loop++;
          n.skip = false;
          n.error_ignored = false;
          n.version = randomVersion();
          n.started_at = now;
          n.finished_at = null;
          n.ex_data = undefined;
        }
        break;
      case O.finish:
      case O.revoke:
      case O.revoke_cascade:
        n.finished_at = now;
        break;
      default: // pause, resume, callback change no field but the state and its refresh time
    }
    const delta = ACTIVE_CODE[to] - ACTIVE_CODE[n.state];
    n.state = to;
    n.state_refresh_at = now;
    if (delta !== 0) for (let p = n.parent; p !== null; p = p.parent) p.active += delta;
    return n;
  }

  private endAttempt(n: FloorNode): void {
    const attempt: Attempt = {
      state: n.state,
      version: n.version,
      loop: n.loop,
      retry: n.retry,
      skip: n.skip,
      error_ignored: n.error_ignored,
      started_at: n.started_at,
      finished_at: n.finished_at,
      ex_data: n.ex_data,
    };
    if (n.history === null) n.history = [attempt];
    else n.history.push(attempt);
  }

  /**
   * What a snapshot costs without structural sharing: a copy of every record (fields written
   * out: a spread of these objects, whose field types changed as they were updated, is ~10× slower).
   */
  copy(): Map<string, FloorNode> {
    const out = new Map<string, FloorNode>();
    for (const [id, n] of this.nodes) {
      out.set(id, {
        state: n.state,
        version: n.version,
        loop: n.loop,
        retry: n.retry,
        skip: n.skip,
        error_ignored: n.error_ignored,
        started_at: n.started_at,
        finished_at: n.finished_at,
        state_refresh_at: n.state_refresh_at,
        ex_data: n.ex_data,
        name: n.name,
        parent: n.parent,
        traits: n.traits,
        active: n.active,
        history: n.history ? n.history.slice() : null,
      });
    }
    return out;
  }
}
