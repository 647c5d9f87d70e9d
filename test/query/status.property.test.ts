/**
 * Random pipelines driven by random operation sequences; every answer is checked against the
 * reference of SPEC §3.2–3.4, is a pure function of (snapshot, request, clock), and a snapshot
 * taken earlier answers the same after more operations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { taskStatusAt, tasksStatusAt } from '../../src/api/queries.js';
import {
  PipestateError,
  type Engine,
  type NodeDefinition,
  type NodeKind,
  type NodeStatus,
  type Operation,
  type Snapshot,
} from '../../src/index.js';
import { clockedEngine } from '../api/helpers.js';
import { jsKeyOrder, referenceElapsed, referenceFailedLeaves, referenceLocalTime, referenceShown } from './reference.js';
import { runs } from '../fc-runs.js';

/** Ids that would trip an object used as a map, and integer-like ids that JS orders first. */
const SPECIAL_IDS = ['__proto__', 'constructor', 'hasOwnProperty', '10', '2', 'toString', 'valueOf'];
const LEAF_KINDS: readonly NodeKind[] = ['activity', 'event', 'gateway'];
/** Tried in turn from a random place; repeats weight the draw toward runs that go somewhere. */
const OPERATIONS: readonly Operation[] = [
  'start',
  'fail',
  'start',
  'finish',
  'pause',
  'start',
  'fail',
  'resume',
  'retry',
  'start',
  'finish',
  'skip',
  'forced_fail',
  'reenter',
  'start',
  'fail',
  'callback',
  'revoke',
];
const ZONES = ['Asia/Shanghai', 'UTC', 'America/New_York'];

interface Tree {
  readonly definition: NodeDefinition;
  readonly ids: string[];
  /** child ids per node id, definition order */
  readonly children: Map<string, string[]>;
  /** parent id per node id (not the root) */
  readonly parent: Map<string, string>;
}

const treeArb = fc
  .array(fc.record({ parent: fc.nat(), container: fc.boolean(), leafKind: fc.constantFrom(...LEAF_KINDS), ignorable: fc.boolean() }), {
    maxLength: 24,
  })
  .map((specs): Tree => {
    const ids = ['root'];
    const children = new Map<string, string[]>([['root', []]]);
    const defs = new Map<string, { id: string; name: string; kind: NodeKind; error_ignorable: boolean }>();
    defs.set('root', { id: 'root', name: 'root name', kind: 'pipeline', error_ignorable: false });
    const containers = ['root'];
    const parents = new Map<string, string>();
    specs.forEach((s, k) => {
      const id = k < SPECIAL_IDS.length ? SPECIAL_IDS[k] : `n${k}`;
      const parent = containers[s.parent % containers.length];
      parents.set(id, parent);
      children.get(parent)!.push(id);
      ids.push(id);
      defs.set(id, { id, name: `name of ${id}`, kind: s.container ? 'subprocess' : s.leafKind, error_ignorable: s.ignorable });
      if (s.container) {
        containers.push(id);
        children.set(id, []);
      }
    });
    const nest = (id: string): NodeDefinition => ({ ...defs.get(id)!, children: (children.get(id) ?? []).map(nest) });
    return { definition: nest('root'), ids, children, parent: parents };
  });

const stepArb = fc.record({
  node: fc.nat(),
  op: fc.nat({ max: OPERATIONS.length - 1 }),
  dt: fc.integer({ min: 0, max: 4000 }),
  exData: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
  // one step in eight keeps a snapshot: each is answered now and again at the end
  snapshot: fc.nat({ max: 7 }).map((n) => n === 0),
});

/** Tries the step's operation on a node, then the next operations in turn, until one is accepted. */
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/** What the runs exercised, summed over runs: checked after them, so a run that stays shallow cannot pass unnoticed. */
const emptyPaths = () => ({
  accepted: Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>,
  refused: 0,
  answers: 0,
  shownFailed: 0,
  exDataListed: 0,
  nestedExData: 0,
  shownNodeSuspended: 0,
  subtreeAnswers: 0,
  integerLikeIdsAnswered: 0,
  keptSnapshots: 0,
});
let paths = emptyPaths();

/** Operations a step tries, from its own, until one is accepted (a third of the list: refusals cost). */
const TRIES = 6;
/** Operations that end the task when the root takes them (fail only until a retry). */
const ENDS_TASK: ReadonlySet<Operation> = new Set<Operation>(['finish', 'fail', 'revoke']);

function drive(e: Engine, tree: Tree, step: Step): void {
  // A node whose parent never started accepts nothing: pick among the others. The root is picked
  // for one step in sixteen, and may then end the task in one of eight of those: a run whose
  // task ended at once would answer nothing worth checking.
  const snap = e.snapshot();
  const reachable = tree.ids.filter((id) => id !== 'root' && snap.getNode('10', tree.parent.get(id)!)!.state !== 'CREATED');
  const id = reachable.length > 0 && step.node % 16 !== 0 ? reachable[(step.node >> 4) % reachable.length] : 'root';
  const mayEnd = id !== 'root' || step.node % 128 === 0;
  for (let k = 0; k < TRIES; k++) {
    const op = OPERATIONS[(step.op + k) % OPERATIONS.length];
    if (!mayEnd && ENDS_TASK.has(op)) continue;
    const args = op === 'fail' || op === 'forced_fail' ? { ex_data: step.exData } : op === 'callback' ? { data: 1 } : undefined;
    try {
      e.apply('10', id, op, args as never);
      paths.accepted[op]++;
      return;
    } catch (error) {
      // Only the lifecycle may refuse: the arguments are valid, the task and node exist.
      if (!(error instanceof PipestateError) || error.code !== 3545000) throw error;
      paths.refused++;
    }
  }
}

function checkNode(snap: Snapshot, tree: Tree, zone: string, now: number, s: NodeStatus, isTaskRoot: boolean): void {
  const r = snap.getNode('10', s.id)!;
  expect(s.name).toBe(isTaskRoot ? 'task ten' : s.id === 'root' ? 'root name' : `name of ${s.id}`);
  expect([s.retry, s.loop, s.skip, s.error_ignorable, s.version]).toEqual([r.retry, r.loop, r.skip, r.error_ignored, r.version]);
  expect(s.state_refresh_at).toBe(new Date(r.state_refresh_at).toISOString());
  expect(s.elapsed_time).toBe(referenceElapsed(r.started_at, r.finished_at, now));
  expect(s.start_time).toBe(r.started_at === null ? '' : referenceLocalTime(r.started_at, zone));
  expect(s.finish_time).toBe(r.finished_at === null ? '' : referenceLocalTime(r.finished_at, zone));
  const left = (tree.children.get(s.id) ?? []).filter((c) => snap.getNode('10', c)!.state !== 'CREATED');
  expect(Object.keys(s.children)).toEqual(jsKeyOrder(left));
  const kids = Object.values(s.children);
  for (const kid of kids) checkNode(snap, tree, zone, now, kid, false);
  expect(s.state).toBe(
    referenceShown(
      r.state,
      kids.map((k) => k.state),
    ),
  );
  expect(Object.keys(s)).toEqual([
    'id',
    'state',
    'name',
    'retry',
    'loop',
    'skip',
    'error_ignorable',
    'version',
    'state_refresh_at',
    'elapsed_time',
    'children',
    'start_time',
    'finish_time',
    ...('ex_data' in s ? ['ex_data'] : []),
  ]);
}

function checkAnswer(snap: Snapshot, tree: Tree, zone: string, now: number, nodeId: string | undefined): string {
  const request = { bk_biz_id: '2', task_id: '10', with_ex_data: true, subprocess_id: nodeId };
  const s = taskStatusAt(snap, request, now, {});
  checkNode(snap, tree, zone, now, s, nodeId === undefined || nodeId === 'root');
  paths.answers++;
  if (nodeId !== undefined && nodeId !== 'root') paths.subtreeAnswers++;
  if (/"(10|2)":/.test(JSON.stringify(s.children))) paths.integerLikeIdsAnswered++;
  if (s.state === 'NODE_SUSPENDED') paths.shownNodeSuspended++;
  if (s.state === 'FAILED') {
    const listed = referenceFailedLeaves(s, (id) => tree.children.get(id) ?? []);
    const expected = Object.create(null);
    for (const id of listed) expected[id] = snap.getNode('10', id)!.ex_data ?? null;
    expect(JSON.stringify(s.ex_data)).toBe(JSON.stringify(expected));
    paths.shownFailed++;
    paths.exDataListed += listed.length;
    if (listed.some((id) => id !== s.id && !(tree.children.get(s.id) ?? []).includes(id))) paths.nestedExData++;
  } else {
    expect('ex_data' in s).toBe(false);
  }
  const text = JSON.stringify(s);
  expect(JSON.stringify(taskStatusAt(snap, request, now, {}))).toBe(text); // pure
  if (nodeId === undefined) {
    // get_tasks_status without children answers the same root, whatever subtrees it skips
    const { children: _children, ex_data: _exData, ...root } = s;
    const [entry] = tasksStatusAt(snap, { bk_biz_id: '2', task_id_list: ['10'] }, now, {}).data;
    expect(entry.status).toEqual(root);
  }
  return text;
}

const statusProperty = fc.property(
  treeArb,
  fc.array(stepArb, { maxLength: 120, size: 'medium' }),
  fc.constantFrom(...ZONES),
  fc.integer({ min: Date.UTC(2026, 2, 8, 4), max: Date.UTC(2026, 2, 8, 8) }),
  (tree, steps, zone, start) => {
    const c = clockedEngine(start);
    c.engine.createProject({ id: '1', bk_biz_id: '2', name: 'p', time_zone: zone });
    c.engine.createTask({ id: '10', project_id: '1', name: 'task ten', pipeline: tree.definition });
    const kept: { snap: Snapshot; now: number; text: string }[] = [];
    c.engine.start('10', 'root');
    for (const step of steps) {
      c.tick(step.dt);
      drive(c.engine, tree, step);
      if (step.snapshot) {
        const snap = c.engine.snapshot();
        kept.push({ snap, now: c.now(), text: checkAnswer(snap, tree, zone, c.now(), undefined) });
      }
    }
    c.tick(1234);
    const snap = c.engine.snapshot();
    for (const id of tree.ids) checkAnswer(snap, tree, zone, c.now(), id);
    checkAnswer(snap, tree, zone, c.now(), undefined);
    for (const k of kept) {
      expect(JSON.stringify(taskStatusAt(k.snap, { bk_biz_id: '2', task_id: '10', with_ex_data: true }, k.now, {}))).toBe(k.text);
      paths.keptSnapshots++;
    }
    expect(c.unexpected).toEqual([]);
  },
);

describe('status answers over random runs', () => {
  it('follow SPEC §3.2–3.4, are pure, and an earlier snapshot answers as it did; every path was taken', () => {
    paths = emptyPaths();
    const numRuns = runs('queryStatus');
    fc.assert(statusProperty, { numRuns });
    if (numRuns < 100) return; // too few runs to expect every path (FC_RUNS below 700)
    const seen = JSON.stringify(paths);
    for (const op of OPERATIONS) expect(paths.accepted[op], `${op} accepted: ${seen}`).toBeGreaterThan(0);
    for (const key of ['refused', 'shownFailed', 'subtreeAnswers', 'integerLikeIdsAnswered', 'keptSnapshots'] as const) {
      expect(paths[key], `${key}: ${seen}`).toBeGreaterThan(numRuns / 2);
    }
    // the rarer ones: a failed grandchild listed through a running subprocess, a paused child shown
    for (const key of ['nestedExData', 'shownNodeSuspended'] as const) expect(paths[key], `${key}: ${seen}`).toBeGreaterThan(numRuns / 20);
    expect(paths.exDataListed, seen).toBeGreaterThan(paths.shownFailed);
  });
});

// The reference once listed failed nodes by walking Object.values(children), which puts
// integer-like ids first, and failed ~2.5% of runs on the key order of ex_data (the engine was
// right; seed -1075307775, path "235" of the generators of the time). The shrunk case, written out:
describe('ex_data lists failed nodes in preorder, whatever JS does with integer-like keys', () => {
  it('a failed child listed before a failed grandchild under the integer-like id "2"', () => {
    const c = clockedEngine();
    c.engine.createProject({ id: '1', bk_biz_id: '2', name: 'p', time_zone: 'UTC' });
    const leaf = (id: string): NodeDefinition => ({ id, kind: 'activity' });
    c.engine.createTask({
      id: '10',
      project_id: '1',
      name: 'task ten',
      pipeline: {
        id: 'root',
        kind: 'pipeline',
        children: [
          leaf('__proto__'),
          leaf('constructor'),
          leaf('10'),
          { id: '2', kind: 'subprocess', children: [leaf('valueOf')] },
          leaf('toString'),
        ],
      },
    });
    const e = c.engine;
    e.start('10', 'root');
    e.start('10', 'constructor');
    e.fail('10', 'constructor', { ex_data: 'c' });
    e.start('10', '2');
    e.start('10', 'valueOf');
    e.fail('10', 'valueOf', { ex_data: 'v' });
    const s = taskStatusAt(e.snapshot(), { bk_biz_id: '2', task_id: '10', with_ex_data: true }, c.now(), {});
    expect(s.state).toBe('FAILED');
    expect(Object.keys(s.children)).toEqual(['2', 'constructor']);
    expect(JSON.stringify(s.ex_data)).toBe('{"constructor":"c","valueOf":"v"}');
    const definitionOrder = new Map([
      ['root', ['__proto__', 'constructor', '10', '2', 'toString']],
      ['2', ['valueOf']],
    ]);
    expect(referenceFailedLeaves(s, (id) => definitionOrder.get(id) ?? [])).toEqual(['constructor', 'valueOf']);
  });
});
