/**
 * Every refusal SPEC §2 and §3.5 imply: its code, its exact message, and that it changed nothing
 * (the same records and histories, no event, the store's snapshot still current).
 */
import { describe, expect, it } from 'vitest';
import { PipestateError, type NodeDefinition, type ProjectInput } from '../../src/model/index.js';
import { Store, type OperationArgs } from '../../src/store/index.js';
import type { Operation } from '../../src/lifecycle/index.js';
import { dumpSnapshot, hexVersion, recordEvents, refusal, versionCounter } from './helpers.js';

const REFUSED = 3545000;
const NOT_FOUND = 3540400;
const INVALID = 3540000;

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'n2', kind: 'activity' },
    {
      id: 'sp',
      kind: 'subprocess',
      children: [
        { id: 'sp2', kind: 'subprocess', children: [{ id: 'b', kind: 'activity' }] },
        { id: 'c', kind: 'activity' },
        { id: 'ev', kind: 'event' },
      ],
    },
    { id: 'g', kind: 'gateway' },
  ],
};

type Step = readonly [Operation | 'forcedFail', string, OperationArgs?];

function fixture(steps: readonly Step[] = []) {
  let now = 1_000;
  const versions = versionCounter();
  const store = new Store({ clock: () => ++now, newVersion: versions.next, rerunLimit: 3 });
  store.createProject({ id: '1', name: 'p' });
  store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
  for (const [op, node, args] of steps) store.apply('10', node, op, args);
  return { store, versions };
}

/** Runs `attempt`, which must throw `code` with `message`, and checks it changed nothing. */
function expectRefusal(store: Store, attempt: () => unknown, code: number, message: string | RegExp): void {
  const before = store.snapshot();
  const dumped = dumpSnapshot(before);
  const events = recordEvents(store);
  let thrown: unknown;
  try {
    attempt();
  } catch (e) {
    thrown = e;
  }
  events.stop();
  expect(thrown, 'the operation was accepted').toBeInstanceOf(PipestateError);
  const error = thrown as PipestateError;
  expect({ code: error.code, message: error.message }).toEqual({
    code,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });
  expect(events.nodes).toEqual([]);
  expect(events.tasks).toEqual([]);
  // nothing was committed: the store's current snapshot is still the one taken before
  expect(store.snapshot()).toBe(before);
  expect(dumpSnapshot(store.snapshot())).toEqual(dumped);
}

const START_ROOT: Step = ['start', 'root'];
const RUN_SP: Step[] = [START_ROOT, ['start', 'sp']];

interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly op: Operation | 'forcedFail';
  readonly node: string;
  readonly args?: OperationArgs;
  readonly message: string;
}

const stateCases: Case[] = [
  {
    name: 'retry of a RUNNING node (the spec example)',
    steps: [START_ROOT, ['start', 'n2']],
    op: 'retry',
    node: 'n2',
    message: 'cannot retry node n2 of task 10: state is RUNNING, retry needs FAILED',
  },
  {
    name: 'start of a RUNNING node',
    steps: [START_ROOT],
    op: 'start',
    node: 'root',
    message: 'cannot start node root of task 10: state is RUNNING, start needs CREATED or READY',
  },
  {
    name: 'finish of a CREATED leaf',
    steps: [START_ROOT],
    op: 'finish',
    node: 'n2',
    message: 'cannot finish node n2 of task 10: state is CREATED, finish needs RUNNING',
  },
  {
    name: 'fail of a CREATED leaf',
    steps: [START_ROOT],
    op: 'fail',
    node: 'n2',
    args: { ex_data: 'x' },
    message: 'cannot fail node n2 of task 10: state is CREATED, fail needs RUNNING',
  },
  {
    name: 'forcedFail of a CREATED leaf names the operation forced_fail',
    steps: [START_ROOT],
    op: 'forcedFail',
    node: 'g',
    message: 'cannot forced_fail node g of task 10: state is CREATED, forced_fail needs RUNNING',
  },
  {
    name: 'skip of a FINISHED node',
    steps: [START_ROOT, ['start', 'n2'], ['finish', 'n2']],
    op: 'skip',
    node: 'n2',
    message: 'cannot skip node n2 of task 10: state is FINISHED, skip needs FAILED',
  },
  {
    name: 'reenter of a RUNNING node',
    steps: [START_ROOT, ['start', 'n2']],
    op: 'reenter',
    node: 'n2',
    message: 'cannot reenter node n2 of task 10: state is RUNNING, reenter needs FINISHED',
  },
  {
    name: 'reenter of a FAILED node',
    steps: [START_ROOT, ['start', 'n2'], ['fail', 'n2']],
    op: 'reenter',
    node: 'n2',
    message: 'cannot reenter node n2 of task 10: state is FAILED, reenter needs FINISHED',
  },
  {
    name: 'resume of a RUNNING container',
    steps: RUN_SP,
    op: 'resume',
    node: 'sp',
    message: 'cannot resume node sp of task 10: state is RUNNING, resume needs SUSPENDED',
  },
  {
    name: 'pause of a RUNNING leaf (leaves pause before they run)',
    steps: [START_ROOT, ['start', 'n2']],
    op: 'pause',
    node: 'n2',
    message: 'cannot pause node n2 of task 10: state is RUNNING, pause needs CREATED or READY',
  },
  {
    name: 'pause of a CREATED container',
    steps: [START_ROOT],
    op: 'pause',
    node: 'sp',
    message: 'cannot pause node sp of task 10: state is CREATED, pause needs RUNNING',
  },
  {
    name: 'pause of a FAILED leaf',
    steps: [START_ROOT, ['start', 'n2'], ['fail', 'n2']],
    op: 'pause',
    node: 'n2',
    message: 'cannot pause node n2 of task 10: state is FAILED, pause needs CREATED or READY',
  },
  {
    name: 'revoke of a CREATED root',
    steps: [],
    op: 'revoke',
    node: 'root',
    message: 'cannot revoke node root of task 10: state is CREATED, revoke needs RUNNING or SUSPENDED',
  },
  {
    name: 'revoke of a REVOKED root',
    steps: [START_ROOT, ['revoke', 'root']],
    op: 'revoke',
    node: 'root',
    message: 'cannot revoke node root of task 10: state is REVOKED, revoke needs RUNNING or SUSPENDED',
  },
  {
    name: 'start of a REVOKED leaf',
    steps: [START_ROOT, ['start', 'n2'], ['revoke', 'root']],
    op: 'start',
    node: 'n2',
    message: 'cannot start node n2 of task 10: state is REVOKED, start needs CREATED or READY',
  },
  {
    name: 'callback of a FINISHED leaf',
    steps: [START_ROOT, ['start', 'n2'], ['finish', 'n2']],
    op: 'callback',
    node: 'n2',
    message: 'cannot callback node n2 of task 10: state is FINISHED, callback needs RUNNING',
  },
  {
    name: 'finish of a FINISHED root',
    steps: [START_ROOT, ['finish', 'root']],
    op: 'finish',
    node: 'root',
    message: 'cannot finish node root of task 10: state is FINISHED, finish needs RUNNING',
  },
];

const kindCases: Case[] = [
  {
    name: 'forced_fail of a subprocess',
    steps: RUN_SP,
    op: 'forced_fail',
    node: 'sp',
    message:
      'cannot forced_fail node sp of task 10: state is RUNNING, forced_fail needs a leaf (activity, event or gateway), node is a subprocess',
  },
  {
    name: 'forced_fail of the root',
    steps: [START_ROOT],
    op: 'forcedFail',
    node: 'root',
    message:
      'cannot forced_fail node root of task 10: state is RUNNING, forced_fail needs a leaf (activity, event or gateway), node is a pipeline',
  },
  {
    name: 'callback of a subprocess',
    steps: RUN_SP,
    op: 'callback',
    node: 'sp',
    args: { data: 1 },
    message:
      'cannot callback node sp of task 10: state is RUNNING, callback needs a leaf (activity, event or gateway), node is a subprocess',
  },
  {
    name: 'callback of the root',
    steps: [START_ROOT],
    op: 'callback',
    node: 'root',
    message:
      'cannot callback node root of task 10: state is RUNNING, callback needs a leaf (activity, event or gateway), node is a pipeline',
  },
  {
    name: 'revoke of a RUNNING activity',
    steps: [START_ROOT, ['start', 'n2']],
    op: 'revoke',
    node: 'n2',
    message: "cannot revoke node n2 of task 10: state is RUNNING, revoke needs the task's root pipeline, node is an activity",
  },
  {
    name: 'revoke of a RUNNING subprocess',
    steps: RUN_SP,
    op: 'revoke',
    node: 'sp',
    message: "cannot revoke node sp of task 10: state is RUNNING, revoke needs the task's root pipeline, node is a subprocess",
  },
  {
    name: 'revoke of an event',
    steps: [...RUN_SP, ['start', 'ev']],
    op: 'revoke',
    node: 'ev',
    message: "cannot revoke node ev of task 10: state is RUNNING, revoke needs the task's root pipeline, node is an event",
  },
  {
    name: 'revoke of a gateway',
    steps: [START_ROOT],
    op: 'revoke',
    node: 'g',
    message: "cannot revoke node g of task 10: state is CREATED, revoke needs the task's root pipeline, node is a gateway",
  },
];

const ancestorCases: Case[] = [
  {
    name: 'start under a SUSPENDED subprocess',
    steps: [...RUN_SP, ['pause', 'sp']],
    op: 'start',
    node: 'c',
    message: 'cannot start node c of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor sp is SUSPENDED',
  },
  {
    name: 'start two levels under a SUSPENDED subprocess',
    steps: [...RUN_SP, ['start', 'sp2'], ['pause', 'sp']],
    op: 'start',
    node: 'b',
    message: 'cannot start node b of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor sp is SUSPENDED',
  },
  {
    name: 'start of a subprocess under a SUSPENDED root',
    steps: [START_ROOT, ['pause', 'root']],
    op: 'start',
    node: 'sp',
    message: 'cannot start node sp of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor root is SUSPENDED',
  },
  {
    name: 'resume of a leaf under a SUSPENDED root',
    steps: [START_ROOT, ['pause', 'n2'], ['pause', 'root']],
    op: 'resume',
    node: 'n2',
    message: 'cannot resume node n2 of task 10: state is SUSPENDED, resume needs every ancestor RUNNING, ancestor root is SUSPENDED',
  },
  {
    name: 'resume of a subprocess under a SUSPENDED root',
    steps: [...RUN_SP, ['pause', 'sp'], ['pause', 'root']],
    op: 'resume',
    node: 'sp',
    message: 'cannot resume node sp of task 10: state is SUSPENDED, resume needs every ancestor RUNNING, ancestor root is SUSPENDED',
  },
  {
    name: 'reenter under a SUSPENDED subprocess',
    steps: [...RUN_SP, ['start', 'c'], ['finish', 'c'], ['pause', 'sp']],
    op: 'reenter',
    node: 'c',
    message: 'cannot reenter node c of task 10: state is FINISHED, reenter needs every ancestor RUNNING, ancestor sp is SUSPENDED',
  },
  {
    name: 'retry under a FINISHED root',
    steps: [START_ROOT, ['start', 'n2'], ['fail', 'n2'], ['finish', 'root']],
    op: 'retry',
    node: 'n2',
    message: 'cannot retry node n2 of task 10: state is FAILED, retry needs every ancestor RUNNING or SUSPENDED, ancestor root is FINISHED',
  },
  {
    name: 'skip under a FINISHED root',
    steps: [START_ROOT, ['start', 'n2'], ['fail', 'n2'], ['finish', 'root']],
    op: 'skip',
    node: 'n2',
    message: 'cannot skip node n2 of task 10: state is FAILED, skip needs every ancestor RUNNING or SUSPENDED, ancestor root is FINISHED',
  },
  {
    name: 'start under a FINISHED root',
    steps: [START_ROOT, ['finish', 'root']],
    op: 'start',
    node: 'g',
    message: 'cannot start node g of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor root is FINISHED',
  },
  {
    name: 'pause of a CREATED leaf under a FAILED root',
    steps: [START_ROOT, ['fail', 'root']],
    op: 'pause',
    node: 'g',
    message: 'cannot pause node g of task 10: state is CREATED, pause needs every ancestor RUNNING or SUSPENDED, ancestor root is FAILED',
  },
  {
    name: 'start of a leaf under a REVOKED root',
    steps: [START_ROOT, ['revoke', 'root']],
    op: 'start',
    node: 'n2',
    message: 'cannot start node n2 of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor root is REVOKED',
  },
  // a container may fail while its children still run (only finish checks descendants);
  // the children, now under an archived ancestor, accept nothing more
  {
    name: 'callback under a FAILED subprocess',
    steps: [...RUN_SP, ['start', 'sp2'], ['start', 'b'], ['fail', 'sp']],
    op: 'callback',
    node: 'b',
    message:
      'cannot callback node b of task 10: state is RUNNING, callback needs every ancestor RUNNING or SUSPENDED, ancestor sp is FAILED',
  },
  {
    name: 'finish under a FAILED subprocess',
    steps: [...RUN_SP, ['start', 'sp2'], ['start', 'b'], ['fail', 'sp']],
    op: 'finish',
    node: 'b',
    message: 'cannot finish node b of task 10: state is RUNNING, finish needs every ancestor RUNNING or SUSPENDED, ancestor sp is FAILED',
  },
  {
    name: 'of two SUSPENDED ancestors, the nearest is named',
    steps: [...RUN_SP, ['start', 'sp2'], ['pause', 'sp2'], ['pause', 'sp']],
    op: 'start',
    node: 'b',
    message: 'cannot start node b of task 10: state is CREATED, start needs every ancestor RUNNING, ancestor sp2 is SUSPENDED',
  },
  {
    name: 'of two SUSPENDED ancestors under a FAILED root, the root is named',
    steps: [...RUN_SP, ['start', 'sp2'], ['pause', 'sp2'], ['pause', 'sp'], ['fail', 'root']],
    op: 'pause',
    node: 'b',
    message: 'cannot pause node b of task 10: state is CREATED, pause needs every ancestor RUNNING or SUSPENDED, ancestor root is FAILED',
  },
  {
    name: 'of two archived ancestors, the nearest is named',
    steps: [...RUN_SP, ['fail', 'sp'], ['fail', 'root']],
    op: 'pause',
    node: 'c',
    message: 'cannot pause node c of task 10: state is CREATED, pause needs every ancestor RUNNING or SUSPENDED, ancestor sp is FAILED',
  },
  {
    name: 'the nearest archived ancestor is named, past a SUSPENDED one',
    steps: [...RUN_SP, ['start', 'sp2'], ['pause', 'sp2'], ['fail', 'sp']],
    op: 'pause',
    node: 'b',
    message: 'cannot pause node b of task 10: state is CREATED, pause needs every ancestor RUNNING or SUSPENDED, ancestor sp is FAILED',
  },
];

// Two obstacles at once: the ancestors are reported, since no descendant finishing would help.
const twoObstacleCases: Case[] = [
  {
    name: 'finish of a subprocess with a RUNNING child, under a FAILED root',
    steps: [...RUN_SP, ['start', 'c'], ['fail', 'root']],
    op: 'finish',
    node: 'sp',
    message:
      'cannot finish node sp of task 10: state is RUNNING, finish needs every ancestor RUNNING or SUSPENDED, ancestor root is FAILED',
  },
  {
    name: 'finish of a subprocess with a READY grandchild, under a FINISHED-by-skip root',
    steps: [...RUN_SP, ['start', 'sp2'], ['start', 'b'], ['fail', 'b'], ['retry', 'b'], ['fail', 'root'], ['skip', 'root']],
    op: 'finish',
    node: 'sp2',
    message:
      'cannot finish node sp2 of task 10: state is RUNNING, finish needs every ancestor RUNNING or SUSPENDED, ancestor root is FINISHED',
  },
  {
    name: 'finish of a SUSPENDED subprocess with a RUNNING child: its state comes first',
    steps: [...RUN_SP, ['start', 'c'], ['pause', 'sp']],
    op: 'finish',
    node: 'sp',
    message: 'cannot finish node sp of task 10: state is SUSPENDED, finish needs RUNNING',
  },
];

const descendantCases: Case[] = [
  {
    name: 'finish of a subprocess with a RUNNING descendant',
    steps: [...RUN_SP, ['start', 'sp2'], ['start', 'b'], ['finish', 'b']],
    op: 'finish',
    node: 'sp',
    message:
      'cannot finish node sp of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant sp2 is RUNNING',
  },
  {
    name: 'finish of the root with a READY grandchild',
    steps: [...RUN_SP, ['start', 'c'], ['fail', 'c'], ['retry', 'c']],
    op: 'finish',
    node: 'root',
    message:
      'cannot finish node root of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant sp is RUNNING',
  },
  {
    name: 'finish of a subprocess with a READY child',
    steps: [...RUN_SP, ['start', 'c'], ['fail', 'c'], ['retry', 'c']],
    op: 'finish',
    node: 'sp',
    message:
      'cannot finish node sp of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant c is READY',
  },
  {
    name: 'finish of the root with a SUSPENDED leaf that never ran',
    steps: [START_ROOT, ['pause', 'g']],
    op: 'finish',
    node: 'root',
    message:
      'cannot finish node root of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant g is SUSPENDED',
  },
];

describe('refusals (3545000) change nothing', () => {
  for (const [group, cases] of [
    ['state', stateCases],
    ['kind', kindCases],
    ['ancestors', ancestorCases],
    ['descendants', descendantCases],
    ['two obstacles', twoObstacleCases],
  ] as const) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, () => {
          const { store } = fixture(c.steps);
          expectRefusal(store, () => store.apply('10', c.node, c.op, c.args), REFUSED, c.message);
        });
      }
    });
  }

  it('a container with more than 32 children names its first active descendant, in preorder, across trie leaves', () => {
    const children: NodeDefinition[] = Array.from({ length: 1_100 }, (_, k) => ({ id: `l${k}`, kind: 'activity' }));
    const store = new Store({ clock: () => 1, newVersion: versionCounter().next });
    store.createProject({ id: '1', name: 'p' });
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: { id: 'root', kind: 'pipeline', children } });
    store.start('10', 'root');
    // l1 finished and l2 failed are not active; the actives are l40 (second trie leaf), l700, l1050 (third level)
    store.start('10', 'l1');
    store.finish('10', 'l1');
    store.start('10', 'l2');
    store.fail('10', 'l2');
    for (const id of ['l1050', 'l700']) store.start('10', id);
    store.pause('10', 'l40');
    const firstActive = (id: string, state: string) =>
      `cannot finish node root of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant ${id} is ${state}`;
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, firstActive('l40', 'SUSPENDED'));
    store.resume('10', 'l40'); // READY: still active
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, firstActive('l40', 'READY'));
    store.start('10', 'l40');
    store.finish('10', 'l40');
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, firstActive('l700', 'RUNNING'));
    store.finish('10', 'l700');
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, firstActive('l1050', 'RUNNING'));
    store.finish('10', 'l1050');
    expect(store.finish('10', 'root').map((c) => [c.nodeId, c.to])).toEqual([['root', 'FINISHED']]);
  });

  it('an active container past the first trie leaf stops its ancestor finishing (containers are counted in their own classes)', () => {
    // 40 leaves fill the first leaf of the record trie; the subprocess sits in the second, and it
    // is the only active node below the root: RUNNING, then SUSPENDED, with a child never started.
    const children: NodeDefinition[] = [
      ...Array.from({ length: 40 }, (_, k): NodeDefinition => ({ id: `l${k}`, kind: 'activity' })),
      { id: 'sp', kind: 'subprocess', children: [{ id: 'inner', kind: 'activity' }] },
    ];
    const store = new Store({ clock: () => 1, newVersion: versionCounter().next });
    store.createProject({ id: '1', name: 'p' });
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: { id: 'root', kind: 'pipeline', children } });
    store.start('10', 'root');
    store.start('10', 'sp');
    const refused = (state: string) =>
      `cannot finish node root of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant sp is ${state}`;
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, refused('RUNNING'));
    store.pause('10', 'sp');
    expectRefusal(store, () => store.finish('10', 'root'), REFUSED, refused('SUSPENDED'));
  });

  it('only the subtree counts: active nodes just before and just after it do not stop a container finishing', () => {
    // preorder: root, n2, sp, sp2, b, c, ev, g — n2 is right before sp's range, g right after it
    const { store } = fixture([...RUN_SP, ['start', 'n2'], ['start', 'g'], ['start', 'c'], ['finish', 'c']]);
    expect(store.finish('10', 'sp').map((x) => [x.nodeId, x.to])).toEqual([['sp', 'FINISHED']]);
    expectRefusal(
      store,
      () => store.finish('10', 'root'),
      REFUSED,
      'cannot finish node root of task 10: state is RUNNING, finish needs no descendant RUNNING, READY or SUSPENDED, descendant n2 is RUNNING',
    );
  });

  it('the operation is accepted once the obstacle is gone', () => {
    const { store } = fixture([...RUN_SP, ['start', 'c'], ['fail', 'c'], ['retry', 'c']]);
    expectRefusal(store, () => store.finish('10', 'sp'), REFUSED, /descendant c is READY/);
    store.start('10', 'c');
    store.finish('10', 'c');
    expect(store.finish('10', 'sp').map((x) => x.to)).toEqual(['FINISHED']);
  });
});

describe('a task whose root is archived accepts nothing more below it', () => {
  const OPS: (Operation | 'forcedFail')[] = [
    'start',
    'finish',
    'fail',
    'forced_fail',
    'forcedFail',
    'pause',
    'resume',
    'retry',
    'skip',
    'reenter',
    'revoke',
    'callback',
  ];
  // Descendants in every state they can be left in: FINISHED (n2), FAILED (g), CREATED (sp's).
  const before: Step[] = [START_ROOT, ['start', 'n2'], ['finish', 'n2'], ['start', 'g'], ['fail', 'g']];
  const ends: [string, Step[]][] = [
    ['FINISHED', [['finish', 'root']]],
    ['FAILED', [['fail', 'root']]],
    ['REVOKED', [['revoke', 'root']]],
    [
      'FINISHED by a skip',
      [
        ['fail', 'root'],
        ['skip', 'root'],
      ],
    ],
  ];
  for (const [name, end] of ends) {
    it(`root ${name}`, () => {
      const { store } = fixture([...before, ...end]);
      for (const node of ['n2', 'sp', 'sp2', 'b', 'c', 'ev', 'g']) {
        for (const op of OPS) {
          const state = store.snapshot().getNode('10', node)!.state;
          expectRefusal(
            store,
            () => store.apply('10', node, op),
            REFUSED,
            new RegExp(`^cannot ${op === 'forcedFail' ? 'forced_fail' : op} node ${node} of task 10: state is ${state}, `),
          );
        }
      }
    });
  }
});

// SPEC §2's "(a task whose root is archived accepts nothing more)" sits in the sentence about
// ancestors; the root has none, so the code lets the root itself take its table moves. Pinned
// here as the code behaves (see the report: an ambiguity).
describe('the archived root itself', () => {
  it('FINISHED takes reenter; FAILED takes retry and skip', () => {
    const finished = fixture([START_ROOT, ['finish', 'root']]).store;
    expect(finished.reenter('10', 'root').map((c) => c.to)).toEqual(['RUNNING']);
    const failed = fixture([START_ROOT, ['fail', 'root']]).store;
    expect(failed.retry('10', 'root').map((c) => c.to)).toEqual(['READY']);
    const failedAgain = fixture([START_ROOT, ['fail', 'root']]).store;
    expect(failedAgain.skip('10', 'root').map((c) => c.to)).toEqual(['FINISHED']);
  });
});

describe('versions', () => {
  it('a stale version is refused (a late callback from an older attempt)', () => {
    const { store } = fixture([START_ROOT, ['start', 'n2'], ['fail', 'n2'], ['retry', 'n2'], ['start', 'n2']]);
    // root took version 1, n2's first attempt 2, its retry 3
    expect(store.snapshot().getNode('10', 'n2')!.version).toBe(hexVersion(3));
    expectRefusal(
      store,
      () => store.callback('10', 'n2', { version: hexVersion(2), data: 'late' }),
      REFUSED,
      `cannot callback node n2 of task 10: state is RUNNING, version "${hexVersion(2)}" is not the node's version "${hexVersion(3)}"`,
    );
    expect(store.callback('10', 'n2', { version: hexVersion(3), data: 'on time' })).toHaveLength(1);
  });

  it('a version given for a node that has none yet is refused', () => {
    const { store } = fixture([START_ROOT]);
    expectRefusal(
      store,
      () => store.start('10', 'n2', { version: 'abc' }),
      REFUSED,
      'cannot start node n2 of task 10: state is CREATED, version "abc" is not the node\'s version ""',
    );
  });

  it('a stale version on a revoke is refused and nothing is revoked', () => {
    const { store } = fixture([...RUN_SP, ['start', 'c']]);
    expectRefusal(
      store,
      () => store.revoke('10', 'root', { version: hexVersion(9) }),
      REFUSED,
      `cannot revoke node root of task 10: state is RUNNING, version "${hexVersion(9)}" is not the node's version "${hexVersion(1)}"`,
    );
  });

  it('a state refusal is reported before a version mismatch', () => {
    const { store } = fixture([START_ROOT]);
    expectRefusal(
      store,
      () => store.retry('10', 'root', { version: 'stale' }),
      REFUSED,
      'cannot retry node root of task 10: state is RUNNING, retry needs FAILED',
    );
  });

  // The version is checked before the effect runs: a refused operation must not draw a version
  // (with an injected newVersion, every later version would shift).
  it('a refusal for a stale version does not draw a version', () => {
    const { store, versions } = fixture([START_ROOT, ['start', 'n2'], ['fail', 'n2']]);
    const drawn = versions.calls();
    expectRefusal(store, () => store.retry('10', 'n2', { version: 'stale' }), REFUSED, /version "stale" is not/);
    expect(versions.calls()).toBe(drawn);
    store.retry('10', 'n2');
    expect(store.snapshot().getNode('10', 'n2')!.version).toBe(hexVersion(drawn + 1));
  });
});

describe('the error itself', () => {
  const caught = (run: () => unknown): PipestateError => {
    try {
      run();
    } catch (e) {
      return e as PipestateError;
    }
    throw new Error('nothing was thrown');
  };

  it('is a PipestateError (an Error) with its code; invalid input also names the field', () => {
    const store = fixture([START_ROOT, ['start', 'n2']]).store;
    const invalid = caught(() => store.fail('10', 'n2', { ex_data: [Number.NaN] }));
    expect(invalid).toBeInstanceOf(Error);
    expect([invalid.name, invalid.code, invalid.field, String(invalid)]).toEqual([
      'PipestateError',
      3540000,
      'args.ex_data',
      'PipestateError: invalid args.ex_data: args.ex_data[0] is not a finite number',
    ]);
    const refused = caught(() => store.start('10', 'n2'));
    expect([refused.name, refused.code, refused.field]).toEqual(['PipestateError', 3545000, undefined]);
    const missing = caught(() => store.start('10', 'zz'));
    expect([missing.name, missing.code, missing.field]).toEqual(['PipestateError', 3540400, undefined]);
    expect(caught(() => store.createTask({ id: 'x' } as never)).field).toBe('task.id');
  });
});

describe('unknown things (3540400)', () => {
  it('an unknown task', () => {
    const { store } = fixture();
    expectRefusal(store, () => store.start('99', 'root'), NOT_FOUND, 'task 99 does not exist');
  });

  it('an unknown node', () => {
    const { store } = fixture();
    expectRefusal(store, () => store.start('10', 'nope'), NOT_FOUND, 'node nope does not exist in task 10');
  });

  it('prototype names are not nodes of a task that does not define them', () => {
    const { store } = fixture();
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expectRefusal(store, () => store.start('10', id), NOT_FOUND, `node ${id} does not exist in task 10`);
      expect(store.snapshot().getNode('10', id)).toBeUndefined();
    }
  });

  it('a task in an unknown project', () => {
    const { store } = fixture();
    expectRefusal(
      store,
      () => store.createTask({ id: '11', project_id: '7', name: 't', pipeline: PIPELINE }),
      NOT_FOUND,
      'project 7 does not exist',
    );
  });
});

describe('invalid input (3540000)', () => {
  const running = () => fixture([START_ROOT, ['start', 'n2']]).store;
  const cases: { name: string; run: (s: Store) => unknown; message: string }[] = [
    {
      name: 'an argument the operation does not take',
      run: (s) => s.start('10', 'g', { ex_data: 1 }),
      message: 'invalid args.ex_data: start takes version',
    },
    { name: 'data on a fail', run: (s) => s.fail('10', 'n2', { data: 1 }), message: 'invalid args.data: fail takes version, ex_data' },
    {
      name: 'ex_data on a callback',
      run: (s) => s.callback('10', 'n2', { ex_data: 1 }),
      message: 'invalid args.ex_data: callback takes version, data',
    },
    {
      name: 'ex_data on a finish',
      run: (s) => s.finish('10', 'n2', { ex_data: 1 }),
      message: 'invalid args.ex_data: finish takes version',
    },
    { name: 'data on a pause', run: (s) => s.pause('10', 'g', { data: 1 }), message: 'invalid args.data: pause takes version' },
    { name: 'ex_data on a resume', run: (s) => s.resume('10', 'g', { ex_data: 1 }), message: 'invalid args.ex_data: resume takes version' },
    {
      name: 'ex_data on a retry',
      run: (s) => s.retry('10', 'n2', { ex_data: 'why' }),
      message: 'invalid args.ex_data: retry takes version',
    },
    { name: 'data on a skip', run: (s) => s.skip('10', 'n2', { data: 1 }), message: 'invalid args.data: skip takes version' },
    {
      name: 'ex_data on a reenter',
      run: (s) => s.reenter('10', 'n2', { ex_data: 1 }),
      message: 'invalid args.ex_data: reenter takes version',
    },
    { name: 'data on a revoke', run: (s) => s.revoke('10', 'root', { data: 1 }), message: 'invalid args.data: revoke takes version' },
    {
      name: 'data on an auto_retry (the policies apply it)',
      run: (s) => s.apply('10', 'n2', 'auto_retry', { data: 1 }),
      message: 'invalid args.data: auto_retry takes version',
    },
    {
      name: 'data on a forced_fail',
      run: (s) => s.forcedFail('10', 'n2', { data: 1 }),
      message: 'invalid args.data: forced_fail takes version, ex_data',
    },
    {
      name: 'an unknown argument',
      run: (s) => s.callback('10', 'n2', { foo: 1 } as OperationArgs),
      message: 'invalid args.foo: callback takes version, data',
    },
    {
      name: 'args that are not an object',
      run: (s) => s.finish('10', 'n2', 'x' as unknown as OperationArgs),
      message: 'invalid args: must be an object',
    },
    {
      name: 'args that are an array',
      run: (s) => s.finish('10', 'n2', [] as unknown as OperationArgs),
      message: 'invalid args: must be an object',
    },
    {
      name: 'a version that is not a string',
      run: (s) => s.finish('10', 'n2', { version: 5 } as unknown as OperationArgs),
      message: 'invalid args.version: must be a string',
    },
    {
      name: 'ex_data holding a Date',
      run: (s) => s.fail('10', 'n2', { ex_data: { when: new Date(0) } } as unknown as OperationArgs),
      message: 'invalid args.ex_data: args.ex_data.when is not a JSON value',
    },
    {
      name: 'ex_data holding NaN',
      run: (s) => s.fail('10', 'n2', { ex_data: [1, Number.NaN] }),
      message: 'invalid args.ex_data: args.ex_data[1] is not a finite number',
    },
    {
      name: 'ex_data holding Infinity',
      run: (s) => s.fail('10', 'n2', { ex_data: Infinity }),
      message: 'invalid args.ex_data: args.ex_data is not a finite number',
    },
    {
      name: 'ex_data holding a function',
      run: (s) => s.fail('10', 'n2', { ex_data: { f: () => 1 } } as unknown as OperationArgs),
      message: 'invalid args.ex_data: args.ex_data.f is not a JSON value',
    },
    {
      name: 'ex_data holding undefined',
      run: (s) => s.fail('10', 'n2', { ex_data: { u: undefined } } as unknown as OperationArgs),
      message: 'invalid args.ex_data: args.ex_data.u is not a JSON value',
    },
    {
      name: 'ex_data holding a bigint',
      run: (s) => s.fail('10', 'n2', { ex_data: 1n } as unknown as OperationArgs),
      message: 'invalid args.ex_data: args.ex_data is not a JSON value',
    },
    {
      name: 'ex_data holding a Map',
      run: (s) => s.fail('10', 'n2', { ex_data: new Map() } as unknown as OperationArgs),
      message: 'invalid args.ex_data: args.ex_data is not a JSON value',
    },
    {
      name: 'callback data holding a class instance',
      run: (s) => s.callback('10', 'n2', { data: new (class X {})() } as unknown as OperationArgs),
      message: 'invalid args.data: args.data is not a JSON value',
    },
    {
      name: 'a task id that is not a string',
      run: (s) => s.start(10 as unknown as string, 'g'),
      message: 'invalid taskId: must be a string',
    },
    {
      name: 'a node id that is not a string',
      run: (s) => s.start('10', null as unknown as string),
      message: 'invalid nodeId: must be a string',
    },
    {
      name: 'an unknown operation',
      run: (s) => s.apply('10', 'g', 'explode' as Operation),
      message:
        'invalid operation: must be one of start, finish, fail, forced_fail, pause, resume, retry, skip, reenter, revoke, callback, auto_retry, forcedFail',
    },
    {
      name: 'invalid input is reported before an unknown task',
      run: (s) => s.start('99', 'g', { data: 1 }),
      message: 'invalid args.data: start takes version',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const store = running();
      expectRefusal(store, () => c.run(store), INVALID, c.message);
    });
  }

  it('a project or a task that is not an object: 3540000, not a TypeError', () => {
    const { store } = fixture();
    for (const input of [null, undefined, 5, 'p']) {
      expectRefusal(store, () => store.createProject(input as never), INVALID, 'invalid project: must be an object');
      expectRefusal(store, () => store.createTask(input as never), INVALID, 'invalid task: must be an object');
    }
    expectRefusal(store, () => store.createProject([] as never), INVALID, 'invalid project.id: must be a string of 1..32 digits');
    // the id is optional (assigned when absent), so an array's first missing field is its project
    expectRefusal(store, () => store.createTask([] as never), INVALID, 'invalid task.project_id: must be a string of 1..32 digits');
  });

  // `args` is optional, and JavaScript callers write null for "none" as often as undefined.
  it('null args count as none: the operation runs', () => {
    const store = running();
    expect(store.finish('10', 'n2', null as never).map((c) => [c.nodeId, c.to])).toEqual([['n2', 'FINISHED']]);
    expect(store.apply('10', 'g', 'start', null as never).map((c) => [c.nodeId, c.to])).toEqual([['g', 'RUNNING']]);
  });

  it('cyclic ex_data is refused, not a stack overflow', () => {
    const store = running();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectRefusal(
      store,
      () => store.fail('10', 'n2', { ex_data: cyclic } as unknown as OperationArgs),
      INVALID,
      /^invalid args\.ex_data: args\.ex_data(\.self)+ is nested deeper than 64$/,
    );
  });

  it('a cyclic array is refused too, at the depth limit', () => {
    const store = running();
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expectRefusal(
      store,
      () => store.fail('10', 'n2', { ex_data: cyclic } as unknown as OperationArgs),
      INVALID,
      `invalid args.ex_data: args.ex_data${'[0]'.repeat(65)} is nested deeper than 64`,
    );
  });

  it('nesting exactly at the depth limit is accepted; one level more is refused', () => {
    const arrays = (n: number): unknown => (n === 0 ? 'x' : [arrays(n - 1)]);
    const objects = (n: number): unknown => (n === 0 ? 'x' : { a: objects(n - 1) });
    const store = running();
    expectRefusal(
      store,
      () => store.fail('10', 'n2', { ex_data: arrays(65) } as never),
      INVALID,
      `invalid args.ex_data: args.ex_data${'[0]'.repeat(65)} is nested deeper than 64`,
    );
    expectRefusal(
      store,
      () => store.fail('10', 'n2', { ex_data: objects(65) } as never),
      INVALID,
      `invalid args.ex_data: args.ex_data${'.a'.repeat(65)} is nested deeper than 64`,
    );
    store.fail('10', 'n2', { ex_data: arrays(64) } as never);
    expect(JSON.stringify(store.snapshot().getNode('10', 'n2')!.ex_data)).toBe(`${'['.repeat(64)}"x"${']'.repeat(64)}`);
    store.retry('10', 'n2');
    store.start('10', 'n2');
    store.fail('10', 'n2', { ex_data: objects(64) } as never);
    expect(JSON.stringify(store.snapshot().getNode('10', 'n2')!.ex_data)).toBe(`${'{"a":'.repeat(64)}"x"${'}'.repeat(64)}`);
  });

  it('a null-prototype object is JSON like any other, "__proto__" an ordinary key', () => {
    const store = running();
    const data = Object.create(null) as Record<string, unknown>;
    data.k = 1;
    // an own key named __proto__ (a null-prototype object has no accessor for it)
    Object.defineProperty(data, '__proto__', {
      value: { nested: Object.assign(Object.create(null), { deep: true }) },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    store.fail('10', 'n2', { ex_data: data as never });
    const stored = store.snapshot().getNode('10', 'n2')!.ex_data as Record<string, unknown>;
    expect(JSON.stringify(stored)).toBe('{"k":1,"__proto__":{"nested":{"deep":true}}}');
    expect(Object.keys(stored)).toEqual(['k', '__proto__']);
    expect(({} as Record<string, unknown>).nested).toBeUndefined();
  });

  it('a duplicate task id', () => {
    const { store } = fixture();
    expectRefusal(
      store,
      () => store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE }),
      INVALID,
      'invalid task.id: task 10 already exists',
    );
  });

  it('a bad definition registers nothing, and the id stays free', () => {
    const { store } = fixture();
    expectRefusal(
      store,
      () =>
        store.createTask({
          id: '11',
          project_id: '1',
          name: 't',
          pipeline: { id: 'r', kind: 'subprocess' },
        }),
      INVALID,
      'invalid pipeline of task 11: node "r" (pipeline) field kind: the root must be a pipeline',
    );
    expect(store.snapshot().getTask('11')).toBeUndefined();
    store.createTask({ id: '11', project_id: '1', name: 't', pipeline: { id: 'r', kind: 'pipeline' } });
    expect(store.snapshot().getNode('11', 'r')!.state).toBe('CREATED');
  });

  it('projects: duplicate id, duplicate business, bad ids and time zone', () => {
    const { store } = fixture();
    store.createProject({ id: '2', bk_biz_id: '5', name: 'q' });
    expectRefusal(store, () => store.createProject({ id: '1', name: 'x' }), INVALID, 'invalid project.id: project 1 already exists');
    expectRefusal(
      store,
      () => store.createProject({ id: '3', bk_biz_id: '5', name: 'x' }),
      INVALID,
      'invalid project.bk_biz_id: business 5 is already bound to project 2',
    );
    expectRefusal(
      store,
      () => store.createProject({ id: 'p3', name: 'x' }),
      INVALID,
      'invalid project.id: must be a string of 1..32 digits',
    );
    expectRefusal(
      store,
      () => store.createProject({ id: '3', name: 'x', time_zone: 'Mars/Olympus' }),
      INVALID,
      'invalid project.time_zone: "Mars/Olympus" is not an IANA time zone',
    );
    const field = (input: unknown): string => refusal(() => store.createProject(input as ProjectInput)).message;
    expect(field({ id: '3', bk_biz_id: 'b5', name: 'x' })).toBe('invalid project.bk_biz_id: must be a string of 1..32 digits');
    expect(field({ id: '3', name: 3 })).toBe('invalid project.name: must be a string');
    expect(field({ id: '3', name: 'x', time_zone: 8 })).toBe('invalid project.time_zone: must be a string');
    expect(refusal(() => store.createTask({ project_id: '1', name: 7 as unknown as string, pipeline: PIPELINE })).message).toBe(
      'invalid task.name: must be a string',
    );
    expect(store.snapshot().getProject('3')).toBeUndefined();
    // no business is not a business: any number of projects may have none
    store.createProject({ id: '3', name: 'x' });
    store.createProject({ id: '4', name: 'y' });
    expect([store.snapshot().getProject('3')?.bk_biz_id, store.snapshot().getProject('4')?.bk_biz_id]).toEqual([null, null]);
  });
});
