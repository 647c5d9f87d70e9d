/**
 * The literal design: what the issue's words describe if taken at face value. One live xstate
 * actor per node runs the lifecycle machine, and the runtime state is one nested object tree
 * (children as arrays, as the definition is nested) updated with immer's `produce`, which
 * copies the path from the root to the changed node, siblings arrays included. A snapshot is
 * free (the tree is immutable), every operation pays for xstate's interpreter and the path copy.
 *
 * Per operation: read the ancestors' actor states, walk the subtree for a container's finish,
 * send the event, read the new state, compute the record with the same EFFECTS as pipestate and
 * write it with produce. Building is the expensive part: ~3.6 KB and tens of µs per actor, so
 * this baseline is run only up to 10^5 nodes (see operations.ts for where it stops).
 *
 * A workload's prelude would take the literal design minutes on the larger trees, so it can be
 * restored instead from a Floor that ran the prelude: each actor starts from the floor node's
 * state (xstate restores a resolved snapshot) and the tree holds the floor's records.
 */
import { castDraft, freeze, produce } from 'immer';
import { createActor, type Actor } from 'xstate';
import {
  ACTIVE,
  EFFECTS,
  MACHINE_OPERATIONS,
  STATES,
  endsAttempt,
  lifecycleMachine,
  type AncestorCondition,
  type NodeRecord,
  type State,
} from '../../src/lifecycle/index.js';
import type { NodeDefinition } from '../../src/model/index.js';
import { randomVersion } from '../../src/store/index.js';
import type { Floor, FloorNode } from './floor.js';
import type { Subject } from '../subject.js';
import type { Batch } from '../workloads.js';

interface LiteralNode extends NodeRecord {
  readonly id: string;
  readonly name: string;
  readonly history: readonly NodeRecord[];
  readonly children: readonly LiteralNode[];
}

interface Entry {
  readonly actor: Actor<typeof lifecycleMachine>;
  readonly parent: Entry | null;
  /** child positions from the root */
  readonly path: readonly number[];
}

export class Literal implements Subject {
  tree: LiteralNode;
  private readonly index = new Map<string, Entry>();

  constructor(
    root: NodeDefinition,
    readonly rerunLimit = 100,
    readonly clock: () => number = Date.now,
    restore?: Floor,
  ) {
    const createdAt = clock();
    const build = (def: NodeDefinition, parent: Entry | null, path: number[]): LiteralNode => {
      const container = def.kind === 'pipeline' || def.kind === 'subprocess';
      const context = { container, root: parent === null, errorIgnorable: def.error_ignorable ?? false, atRerunLimit: false };
      const from = restore?.nodes.get(def.id);
      const record: NodeRecord = from
        ? recordOf(from)
        : {
            state: 'CREATED',
            version: '',
            loop: 0,
            retry: 0,
            auto_retry_times: 0,
            skip: false,
            error_ignored: false,
            started_at: null,
            finished_at: null,
            state_refresh_at: createdAt,
            ex_data: undefined,
          };
      const actor = createActor(lifecycleMachine, {
        input: context,
        ...(from ? { snapshot: lifecycleMachine.resolveState({ value: record.state, context }) } : {}),
      }).start();
      const entry: Entry = { actor, parent, path };
      this.index.set(def.id, entry);
      return {
        id: def.id,
        name: def.name ?? '',
        ...record,
        history: from?.history?.map(recordOf) ?? [],
        children: (def.children ?? []).map((c, k) => build(c, entry, [...path, k])),
      };
    };
    // Frozen up front, as produce's results are: immer then never walks the untouched parts.
    this.tree = freeze(build(root, null, []), true);
  }

  run(batch: Batch): void {
    const { ids, ops, length } = batch;
    for (let k = 0; k < length; k++) this.apply(ids[k], ops[k]);
  }

  applyAll(ids: readonly string[], ops: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) this.apply(ids[k], ops[k]);
  }

  private at(path: readonly number[]): LiteralNode {
    let n = this.tree;
    for (const k of path) n = n.children[k];
    return n;
  }

  apply(id: string, opCode: number): void {
    const e = this.index.get(id);
    if (e === undefined) throw new Error(`no node ${id}`);
    const op = MACHINE_OPERATIONS[opCode];
    let ancestors: AncestorCondition = 'running';
    for (let p = e.parent; p !== null && ancestors !== 'archived'; p = p.parent) {
      const s = p.actor.getSnapshot().value;
      if (s === 'RUNNING' || (s === 'SUSPENDED' && ancestors === 'suspended')) continue;
      ancestors = s === 'SUSPENDED' ? 'suspended' : 'archived';
    }
    const node = this.at(e.path);
    const descendantsActive = op === 'finish' && node.children.some(anyActive);
    const before = e.actor.getSnapshot();
    e.actor.send({ type: op, ancestors, descendantsActive });
    const after = e.actor.getSnapshot();
    if (after === before) throw new Error(`cannot ${op} node ${id}: state is ${node.state}`);
    const to = after.value as State;
    const record = EFFECTS[op](node, { to, now: this.clock(), newVersion: randomVersion, rerunLimit: this.rerunLimit, exData: undefined });
    const ended = endsAttempt(op, to);
    this.tree = produce(this.tree, (draft) => {
      let n = draft;
      for (const k of e.path) n = n.children[k];
      Object.assign(n, record);
      if (ended) n.history.push(castDraft(node));
    });
  }
}

/** A floor record (or attempt) as a NodeRecord. */
function recordOf(
  n: Omit<FloorNode, 'name' | 'parent' | 'traits' | 'active' | 'history' | 'state_refresh_at'> & { state_refresh_at?: number },
): NodeRecord {
  return {
    state: STATES[n.state],
    version: n.version,
    loop: n.loop,
    retry: n.retry,
    auto_retry_times: 0,
    skip: n.skip,
    error_ignored: n.error_ignored,
    started_at: n.started_at,
    finished_at: n.finished_at,
    state_refresh_at: n.state_refresh_at ?? n.finished_at ?? 0,
    ex_data: n.ex_data,
  };
}

const anyActive = (n: LiteralNode): boolean => ACTIVE.has(n.state) || n.children.some(anyActive);
