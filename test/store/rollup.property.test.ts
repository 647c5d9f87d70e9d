/**
 * Roll-ups (src/store/rollup.ts) against the obvious: after any sequence of operations, the
 * counts of every subtree equal a walk over its records, in the snapshot of that moment and in
 * every snapshot kept from before (counts live on the copied trie path, so an old snapshot must
 * keep the counts of its own moment).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATES, type Operation, type State } from '../../src/lifecycle/index.js';
import { PipestateError, TRAIT_CONTAINER, type NodeDefinition } from '../../src/model/index.js';
import { progressOf, rollupAt, type Rollup } from '../../src/store/rollup.js';
import { Store, recordAt, type Snapshot, type TaskView } from '../../src/store/index.js';
import { hexVersion } from './helpers.js';
import { runs } from '../fc-runs.js';

const RUNS = runs('storeRollup');

/** The operations worth trying on a node in each state (the store still decides). */
const PLAUSIBLE: Readonly<Record<State, readonly Operation[]>> = {
  CREATED: ['start', 'pause'],
  READY: ['start', 'pause'],
  RUNNING: ['finish', 'fail', 'forced_fail', 'pause', 'finish'],
  SUSPENDED: ['resume'],
  FINISHED: ['reenter'],
  FAILED: ['retry', 'skip'],
  REVOKED: [],
};

/** A tree from a list of choices: node k hangs under one of the containers made before it. */
function treeOf(shape: readonly { parent: number; container: boolean }[]): NodeDefinition {
  interface Building {
    id: string;
    kind: NodeDefinition['kind'];
    children?: Building[];
  }
  const root: Building = { id: 'n0', kind: 'pipeline', children: [] };
  const containers: Building[] = [root];
  shape.forEach((s, k) => {
    const node: Building = s.container
      ? { id: `n${k + 1}`, kind: 'subprocess', children: [] }
      : { id: `n${k + 1}`, kind: k % 3 === 0 ? 'gateway' : 'activity' };
    containers[s.parent % containers.length].children!.push(node);
    if (s.container) containers.push(node);
  });
  return root as NodeDefinition;
}

function bruteForce(task: TaskView, i: number): Rollup {
  const zero = () => Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
  const nodes = zero();
  const leaves = zero();
  for (let j = i; j < task.definition.end[i]; j++) {
    const state = recordAt(task, j).state;
    nodes[state]++;
    if ((task.definition.traits[j] & TRAIT_CONTAINER) === 0) leaves[state]++;
  }
  return { nodes, leaves };
}

function expectRollups(snap: Snapshot, expected?: readonly Rollup[]): Rollup[] {
  const task = snap.getTask('1')!;
  const out: Rollup[] = [];
  for (let i = 0; i < task.definition.size; i++) {
    const got = rollupAt(task, i);
    const want = expected ? expected[i] : bruteForce(task, i);
    if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `subtree of ${task.definition.ids[i]}`).toEqual(want);
    out.push(got);
  }
  return out;
}

describe('roll-ups', () => {
  it(`equal a walk of the subtree after random operations, now and in kept snapshots (${RUNS} runs)`, () => {
    const shapeArb = fc.array(fc.record({ parent: fc.nat(), container: fc.boolean() }), { minLength: 1, maxLength: 1_100, size: 'max' });
    const stepArb = fc.record({ node: fc.nat(), op: fc.nat(), snapshot: fc.integer({ min: 0, max: 30 }) });
    let moved = 0;
    fc.assert(
      fc.property(shapeArb, fc.array(stepArb, { minLength: 1, maxLength: 400, size: 'max' }), (shape, steps) => {
        let now = 0;
        const store = new Store({ clock: () => ++now, newVersion: () => hexVersion(now), rerunLimit: 3 });
        store.createProject({ id: '1', name: 'p' });
        store.createTask({ id: '1', project_id: '1', name: 't', pipeline: treeOf(shape) });
        const def = store.snapshot().getTask('1')!.definition;
        const ids = def.ids;
        const states: State[] = ids.map(() => 'CREATED');
        const kept: { snap: Snapshot; rollups: Rollup[] }[] = [];
        for (const step of steps) {
          // Nodes whose parent runs: the others would refuse almost everything. States are followed
          // from the changes, not read from a snapshot, so that runs of writes stay transient.
          const open = ids.flatMap((_, i) => (i === 0 || states[def.parent[i]] === 'RUNNING' ? [i] : []));
          const index = open[step.node % open.length];
          const state = states[index];
          const ops = PLAUSIBLE[state];
          if (ops.length === 0) continue;
          try {
            for (const c of store.apply('1', ids[index], ops[step.op % ops.length])) states[def.indexOf(c.nodeId)] = c.to;
            moved++;
          } catch (e) {
            if (!(e instanceof PipestateError)) throw e;
          }
          if (step.snapshot === 0) {
            const kept1 = store.snapshot();
            kept.push({ snap: kept1, rollups: expectRollups(kept1) });
          }
        }
        expectRollups(store.snapshot());
        for (const k of kept) expectRollups(k.snap, k.rollups);
      }),
      { numRuns: RUNS },
    );
    expect(moved).toBeGreaterThan(RUNS * 20);
  }, 300_000);

  it('progress is finished leaves over all leaves; a container without children has none', () => {
    const store = new Store({ clock: () => 1 });
    store.createProject({ id: '1', name: 'p' });
    store.createTask({
      id: '1',
      project_id: '1',
      name: 't',
      pipeline: {
        id: 'r',
        kind: 'pipeline',
        children: [
          { id: 'a', kind: 'activity' },
          { id: 'b', kind: 'activity', error_ignorable: true },
          { id: 's', kind: 'subprocess', children: [{ id: 'c', kind: 'event' }] },
          { id: 'e', kind: 'subprocess' },
        ],
      },
    });
    for (const [op, node] of [
      ['start', 'r'],
      ['start', 'a'],
      ['finish', 'a'],
      ['start', 'b'],
      ['fail', 'b'],
      ['start', 's'],
      ['start', 'c'],
      ['fail', 'c'],
    ] as const) {
      store.apply('1', node, op);
    }
    const task = store.snapshot().getTask('1')!;
    const whole = rollupAt(task, 0);
    expect(whole).toEqual({
      nodes: { CREATED: 1, READY: 0, RUNNING: 2, SUSPENDED: 0, FINISHED: 2, FAILED: 1, REVOKED: 0 },
      leaves: { CREATED: 0, READY: 0, RUNNING: 0, SUSPENDED: 0, FINISHED: 2, FAILED: 1, REVOKED: 0 },
    });
    expect(progressOf(whole)).toEqual({ finished: 2, total: 3 });
    expect(progressOf(rollupAt(task, task.definition.indexOf('e')))).toEqual({ finished: 0, total: 0 });
    expect(progressOf(rollupAt(task, task.definition.indexOf('c')))).toEqual({ finished: 0, total: 1 });
  });
});
