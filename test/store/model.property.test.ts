/**
 * The model-based test of the store. Random nested pipelines and random operation sequences (legal
 * and illegal, biased toward legal so that runs get deep) run against the engine and against the
 * reference model of test/store/reference-model.ts, which reads SPEC §2 independently of src.
 *
 * Checked at every step: the engine accepts exactly when the model does (and refuses with the
 * model's code); an accepted step emits one event per node the model changed, with the model's
 * moves and records; versions change exactly when the spec draws a new one; only moves of the
 * spec's graph happen; loop and retry never decrease; started_at <= finished_at; a refusal
 * changes nothing and emits nothing. At snapshot steps (and at the end): the whole tree and
 * histories equal the model's; replaying the emitted records onto the initial tree gives the same
 * tree; every snapshot kept earlier in the run still shows exactly what it showed when taken.
 * Snapshots are taken only at some steps on purpose: between them the store edits its trie in
 * place, and that path must be as correct as the copying one.
 *
 * Its run count is runs('storeModel') (test/fc-runs.ts: 1,000 at the default FC_RUNS).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json, NodeRecord } from '../../src/lifecycle/index.js';
import { PipestateError, type NodeDefinition } from '../../src/model/index.js';
import { Store, type NodeChange, type OperationArgs, type Snapshot, type TaskCreated } from '../../src/store/index.js';
import { runOnce, runs } from '../fc-runs.js';
import { dumpSnapshot, hexVersion, type NodeDump } from './helpers.js';
import {
  SPEC_OPERATIONS,
  freshRecord,
  legalOperations,
  modelApply,
  modelNext,
  modelTask,
  specAllows,
  type ModelRecord,
  type ModelTask,
  type NestedNode,
  type SpecKind,
  type SpecOperation,
} from './reference-model.js';

const MODEL_RUNS = runs('storeModel');

const REFUSED = 3545000;
const NOT_FOUND = 3540400;
const INVALID = 3540000;

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Shape {
  readonly kind: SpecKind;
  readonly ignorable: boolean;
  readonly children: readonly Shape[];
}

const leafShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constantFrom<SpecKind>('activity', 'event', 'gateway'),
  ignorable: fc.boolean(),
  children: fc.constant([]),
});

const subprocess = (children: fc.Arbitrary<Shape[]>): fc.Arbitrary<Shape> =>
  fc.record({ kind: fc.constant<SpecKind>('subprocess'), ignorable: fc.boolean(), children });

const shapeAt = (depth: number): fc.Arbitrary<Shape> =>
  depth === 0
    ? leafShape
    : fc.oneof({ weight: 3, arbitrary: leafShape }, { weight: 2, arbitrary: subprocess(fc.array(shapeAt(depth - 1), { maxLength: 3 })) });

/** subprocesses nested exactly `levels` deep, with siblings on the way */
const deepShape = (levels: number): fc.Arbitrary<Shape> =>
  levels === 0
    ? leafShape
    : subprocess(fc.tuple(deepShape(levels - 1), fc.array(leafShape, { maxLength: 1 })).map(([d, rest]) => [d, ...rest]));

const pipelineShape: fc.Arbitrary<Shape> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant<SpecKind>('pipeline'),
      ignorable: fc.boolean(),
      children: fc.array(shapeAt(3), { maxLength: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant<SpecKind>('pipeline'),
      ignorable: fc.boolean(),
      children: fc
        .tuple(fc.integer({ min: 3, max: 4 }).chain(deepShape), fc.array(leafShape, { maxLength: 2 }))
        .map(([d, rest]) => [...rest, d]),
    }),
  },
);

const PROTOTYPE_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

function toDefinition(shape: Shape, tricky: boolean): NestedNode {
  let n = 0;
  const nextId = (): string => (tricky && n < PROTOTYPE_IDS.length ? PROTOTYPE_IDS[n++] : `n${n++}`);
  const build = (s: Shape): NestedNode => ({
    id: nextId(),
    kind: s.kind,
    error_ignorable: s.ignorable,
    children: s.children.map(build),
  });
  return build(shape);
}

const payload: fc.Arbitrary<Json | undefined> = fc.option(
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as Json),
  { nil: undefined, freq: 3 },
);

interface Step {
  /** < LEGAL_PERCENT: pick an operation the model accepts */
  readonly legal: number;
  readonly pick: number;
  readonly task: number;
  readonly node: number;
  readonly op: number;
  /** < 6: something odd (bad argument, unknown task or node) */
  readonly oddity: number;
  /** 0..15 none, 16..17 the current version, 18 a stale one, 19 garbage */
  readonly versionMode: number;
  readonly payload: Json | undefined;
  readonly advance: number;
  /** < the scenario's snapshotPercent: take a snapshot and compare everything */
  readonly snapshot: number;
}

const LEGAL_PERCENT = 85;

const stepArb: fc.Arbitrary<Step> = fc.record({
  legal: fc.integer({ min: 0, max: 99 }),
  pick: fc.nat(),
  task: fc.nat(),
  node: fc.nat(),
  op: fc.nat(),
  oddity: fc.integer({ min: 0, max: 99 }),
  versionMode: fc.integer({ min: 0, max: 19 }),
  payload,
  advance: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1_000, max: 90_000_000 })),
  snapshot: fc.integer({ min: 0, max: 99 }),
});

interface Scenario {
  readonly rerunLimit: number;
  /**
   * How often a step takes a snapshot. Between snapshots the store edits its trie in place; right
   * after one it copies paths: runs that snapshot rarely and runs that snapshot at every step
   * exercise the two.
   */
  readonly snapshotPercent: number;
  readonly shapes: readonly Shape[];
  readonly tricky: boolean;
  readonly steps: readonly Step[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  rerunLimit: fc.constantFrom(1, 2, 2, 3, 100),
  snapshotPercent: fc.constantFrom(0, 10, 25, 50, 100),
  shapes: fc.array(pipelineShape, { minLength: 1, maxLength: 2 }),
  tricky: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 5, maxLength: 80, size: 'max' }),
});

// ---------------------------------------------------------------------------------------------
// One run

const OP_NAMES: readonly (SpecOperation | 'forcedFail')[] = [...SPEC_OPERATIONS, 'forcedFail'];
const canonical = (name: SpecOperation | 'forcedFail'): SpecOperation => (name === 'forcedFail' ? 'forced_fail' : name);

/** Weights of legal operations: progress first; the one move that ends a task for good, rarely. */
const WEIGHT: Readonly<Record<SpecOperation, number>> = {
  start: 20,
  finish: 12,
  fail: 6,
  forced_fail: 3,
  pause: 4,
  resume: 8,
  retry: 6,
  skip: 4,
  reenter: 6,
  revoke: 1,
  callback: 3,
};

type Expectation = { readonly kind: 'accept' } | { readonly kind: 'refuse'; readonly code: number; readonly prefix?: string };

/** What the run saw, summed over runs: the suite is worthless if runs stay shallow. */
const emptyCoverage = () => ({
  runs: 0,
  accepted: 0,
  refused: 0,
  rerunLimitHit: 0,
  containerFinished: 0,
  revokeCascade: 0,
  retries: 0,
  reentries: 0,
  deepStarts: 0,
  ignoredFailures: 0,
  staleVersionRefused: 0,
  snapshotsChecked: 0,
});
let coverage = emptyCoverage();

const plain = (r: NodeRecord | ModelRecord): ModelRecord => ({ ...r }) as ModelRecord;

// The hot loop checks with plain functions: an `expect` call costs microseconds, and a run makes
// thousands. On a mismatch `same` hands over to `expect` for its diff.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}
function same(actual: unknown, expected: unknown, message: string): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, message).toEqual(expected);
}

function runScenario(scenario: Scenario): void {
  coverage.runs++;
  let now = 1_700_000_000_000;
  let versionsDrawn = 0;
  const store = new Store({ clock: () => now, newVersion: () => hexVersion(++versionsDrawn), rerunLimit: scenario.rerunLimit });
  const nodeEvents: NodeChange[] = [];
  const taskEvents: TaskCreated[] = [];
  store.on('node', (c) => {
    nodeEvents.push(c);
  });
  store.on('task', (t) => {
    taskEvents.push(t);
  });
  store.createProject({ id: '1', name: 'p' });

  // a snapshot from before any task exists must never see one
  const empty = store.snapshot();
  const kept: { snap: Snapshot; dump: Map<string, Map<string, NodeDump>> }[] = [];

  const tasks: ModelTask[] = [];
  const replay = new Map<string, Map<string, NodeRecord>>();
  scenario.shapes.forEach((shape, k) => {
    const id = String(10 + k);
    const pipeline = toDefinition(shape, scenario.tricky);
    store.createTask({ id, project_id: '1', name: `task ${id}`, pipeline: pipeline as NodeDefinition });
    tasks.push(modelTask(id, pipeline, now));
    replay.set(id, new Map());
    now += 1;
  });
  same(
    taskEvents.map((t) => [t.seq, t.taskId, t.at]),
    tasks.map((t, k) => [k + 1, t.id, t.createdAt]),
    'task events',
  );
  let seq = tasks.length;
  /** the snapshot taken at the last snapshot step, while no operation has been accepted since */
  let current: Snapshot | undefined;
  const seenVersions = new Set<string>(['']);

  const checkRecordInvariants = (r: NodeRecord | ModelRecord, where: string): void => {
    if (r.started_at !== null && r.finished_at !== null) {
      check(r.started_at <= r.finished_at, `${where}: started_at ${r.started_at} > finished_at ${r.finished_at}`);
    }
  };

  const compareAll = (snap: Snapshot): void => {
    coverage.snapshotsChecked++;
    for (const t of tasks) {
      const replayed = replay.get(t.id)!;
      for (const node of t.nodes) {
        const where = `task ${t.id} node ${node.id}`;
        const record = snap.getNode(t.id, node.id);
        check(record !== undefined, `${where}: no record`);
        same(plain(record!), node.record, where);
        same(snap.getHistory(t.id, node.id)!.map(plain), node.history, `${where} history`);
        same(plain(replayed.get(node.id) ?? freshRecord(t.createdAt)), plain(record!), `${where} replayed from events`);
        checkRecordInvariants(record!, where);
      }
    }
    for (const k of kept) same(dumpSnapshot(k.snap), k.dump, 'a kept snapshot changed');
    check(empty.size === 0, 'the empty snapshot sees tasks');
    for (const t of tasks) check(empty.getTask(t.id) === undefined, `the empty snapshot sees task ${t.id}`);
  };

  for (const step of scenario.steps) {
    now += step.advance;

    // --- choose the operation
    let task: ModelTask;
    let index: number;
    let opName: SpecOperation | 'forcedFail';
    const legal = step.legal < LEGAL_PERCENT ? chooseLegal(tasks, scenario.rerunLimit, step.pick) : undefined;
    if (legal) {
      ({ task, index } = legal);
      opName = legal.op === 'forced_fail' && step.op % 2 === 0 ? 'forcedFail' : legal.op;
    } else {
      task = tasks[step.task % tasks.length];
      index = step.node % task.nodes.length;
      opName = OP_NAMES[step.op % OP_NAMES.length];
    }
    const op = canonical(opName);
    const node = task.nodes[index];
    let taskArg: unknown = task.id;
    let nodeArg = node.id;
    const args: Record<string, unknown> = {};
    if (op === 'fail' || op === 'forced_fail') {
      if (step.payload !== undefined) args.ex_data = step.payload;
    }
    if (op === 'callback' && step.payload !== undefined) args.data = step.payload;
    if (step.versionMode === 16 || step.versionMode === 17) args.version = node.record.version;
    if (step.versionMode === 18) args.version = staleVersion(node.history, node.record.version, seenVersions);
    if (step.versionMode === 19) args.version = 'not-a-version';

    // --- what the model expects
    let expectation: Expectation;
    let refusedForVersion = false;
    const odd = step.oddity;
    if (odd <= 1) {
      args[odd === 0 ? 'bogus' : op === 'callback' ? 'ex_data' : 'data'] = 1;
      expectation = { kind: 'refuse', code: INVALID };
    } else if (odd === 2) {
      args[op === 'callback' ? 'data' : 'ex_data'] = { bad: [Number.NaN] };
      expectation = { kind: 'refuse', code: INVALID };
    } else if (odd === 3) {
      taskArg = '999';
      expectation = { kind: 'refuse', code: NOT_FOUND };
    } else if (odd === 4) {
      nodeArg = PROTOTYPE_IDS.find((id) => !task.byId.has(id)) ?? 'zz';
      expectation = { kind: 'refuse', code: NOT_FOUND };
    } else if (odd === 5) {
      taskArg = Number(task.id);
      expectation = { kind: 'refuse', code: INVALID };
    } else {
      const to = modelNext(task, index, op, scenario.rerunLimit);
      const prefix = `cannot ${op} node ${node.id} of task ${task.id}: state is ${node.record.state}, `;
      if (to === null) expectation = { kind: 'refuse', code: REFUSED, prefix };
      else if (args.version !== undefined && args.version !== node.record.version) {
        expectation = { kind: 'refuse', code: REFUSED, prefix: `${prefix}version ` };
        refusedForVersion = true;
      } else expectation = { kind: 'accept' };
    }

    // --- run it on the engine (on a copy of the payload, mutated afterwards)
    const handed = structuredClone(args);
    const eventsBefore = nodeEvents.length;
    let returned: NodeChange[] | undefined;
    let thrown: unknown;
    try {
      returned = store.apply(taskArg as string, nodeArg, opName, handed as OperationArgs);
    } catch (e) {
      thrown = e;
    }
    mutateDeep(handed);
    const emitted = nodeEvents.slice(eventsBefore);
    const what = `${opName} on ${task.id}/${nodeArg} (${node.record.state}) args ${JSON.stringify(args)}`;

    if (expectation.kind === 'refuse') {
      check(thrown instanceof PipestateError, `${what}: the engine accepted what the model refuses (${String(thrown)})`);
      const error = thrown as PipestateError;
      check(error.code === expectation.code, `${what}: code ${error.code}, expected ${expectation.code}: ${error.message}`);
      if (expectation.prefix) {
        check(error.message.startsWith(expectation.prefix), `${what}: message ${error.message}, expected ${expectation.prefix}…`);
      }
      check(emitted.length === 0, `${what}: a refusal emitted`);
      // nothing was committed: the store's snapshot, when one is current, is still current
      if (current) check(store.snapshot() === current, `${what}: a refusal replaced the current snapshot`);
      coverage.refused++;
      if (refusedForVersion) coverage.staleVersionRefused++;
    } else {
      if (thrown !== undefined) {
        throw new Error(`${what}: the engine refused what the model accepts: ${(thrown as Error).message}`);
      }
      coverage.accepted++;
      current = undefined;
      const previous = new Map(task.nodes.map((n, i) => [i, n.record]));
      const changes = modelApply(task, index, op, now, scenario.rerunLimit, args.ex_data, () => 'MODEL-NEW-VERSION');
      check(
        returned!.length === emitted.length && returned!.every((r, k) => r === emitted[k]),
        `${what}: the changes returned are not the events emitted`,
      );
      same(
        emitted.map((e) => [e.nodeId, e.from, e.to]),
        changes.map((c) => [task.nodes[c.index].id, c.from, c.to]),
        what,
      );
      emitted.forEach((event, k) => {
        const c = changes[k];
        const model = task.nodes[c.index];
        const before = previous.get(c.index)!;
        check(event.seq === ++seq, `${what}: seq ${event.seq}, expected ${seq}`);
        check(event.taskId === task.id && event.operation === op && event.at === now, `${what}: event ${JSON.stringify(event)}`);
        check(specAllows(event.from, event.to), `${what}: ${event.from} → ${event.to} is not in the graph`);
        if (op === 'callback' && args.data !== undefined) same(event.data, args.data, `${what}: callback data`);
        else check(!('data' in event), `${what}: data on a ${op} event`);
        // versions: fresh exactly when the spec draws one
        if (c.newVersion) {
          check(event.record.version !== before.version, `${what}: the version did not change`);
          check(!seenVersions.has(event.record.version), `${what}: version ${event.record.version} reused`);
          check(/^[0-9a-f]{32}$/.test(event.record.version), `${what}: version ${event.record.version}`);
          model.record.version = event.record.version;
        }
        seenVersions.add(event.record.version);
        same(plain(event.record), model.record, `${what}: record of ${model.id}`);
        check(event.record.loop >= before.loop && event.record.retry >= before.retry, `${what}: a counter decreased`);
        checkRecordInvariants(event.record, what);
        replay.get(task.id)!.set(model.id, event.record);
        noteCoverage(task, c.index, op, c.from, c.to, model.record);
      });
    }

    if (step.snapshot < scenario.snapshotPercent) {
      const snap = store.snapshot();
      current = snap;
      compareAll(snap);
      const entry = { snap, dump: dumpSnapshot(snap) };
      if (kept.length < 4) kept.push(entry);
      else kept[step.pick % 4] = entry;
    }
  }
  compareAll(store.snapshot());
}

function chooseLegal(
  tasks: readonly ModelTask[],
  rerunLimit: number,
  pick: number,
): { task: ModelTask; index: number; op: SpecOperation } | undefined {
  const candidates: { task: ModelTask; index: number; op: SpecOperation; weight: number }[] = [];
  let total = 0;
  for (const task of tasks) {
    task.nodes.forEach((_, index) => {
      for (const [op] of legalOperations(task, index, rerunLimit)) {
        candidates.push({ task, index, op, weight: WEIGHT[op] });
        total += WEIGHT[op];
      }
    });
  }
  if (total === 0) return undefined;
  let at = pick % total;
  for (const c of candidates) {
    if (at < c.weight) return c;
    at -= c.weight;
  }
  return undefined;
}

function staleVersion(history: readonly ModelRecord[], current: string, seen: ReadonlySet<string>): string {
  const old = [...history].reverse().find((r) => r.version !== current);
  if (old) return old.version;
  for (const v of seen) if (v !== current) return v;
  return 'f'.repeat(32);
}

/** The caller keeps its objects: changing them afterwards must not reach the engine. */
function mutateDeep(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(mutateDeep);
    value.push('mutated');
  } else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) mutateDeep(v);
    (value as Record<string, unknown>).mutated = true;
  }
}

function noteCoverage(task: ModelTask, index: number, op: SpecOperation, from: string, to: string, r: ModelRecord): void {
  const node = task.nodes[index];
  if (op === 'reenter' && to === 'FAILED') coverage.rerunLimitHit++;
  if (op === 'finish' && node.children.length > 0) coverage.containerFinished++;
  if (op === 'revoke' && node.parent >= 0) coverage.revokeCascade++;
  if (op === 'retry') coverage.retries++;
  if (op === 'reenter' && to === 'RUNNING') coverage.reentries++;
  if (op === 'fail' && to === 'FINISHED' && r.error_ignored) coverage.ignoredFailures++;
  if (op === 'start' && from !== 'RUNNING') {
    let depth = 0;
    for (let p = node.parent; p >= 0; p = task.nodes[p].parent) depth++;
    if (depth >= 3) coverage.deepStarts++;
  }
}

// ---------------------------------------------------------------------------------------------

/** The property and what its runs reached (test/fc-runs.ts runOnce: either test below may run it). */
const modelRuns = runOnce(() => {
  coverage = emptyCoverage();
  fc.assert(fc.property(scenarioArb, runScenario), { numRuns: MODEL_RUNS });
  return coverage;
});
// a run takes a few ms; FC_RUNS may ask for many
const MODEL_TIMEOUT = 60_000 + MODEL_RUNS * 30;

describe('the store against a reference model of SPEC §2', () => {
  it(
    `agrees on every step of random runs (${MODEL_RUNS} runs)`,
    () => {
      expect(modelRuns().runs).toBe(MODEL_RUNS);
    },
    MODEL_TIMEOUT,
  );

  // Not vacuous: with enough runs, every interesting path was taken many times.
  it.skipIf(MODEL_RUNS < 200)(
    'took every interesting path',
    () => {
      const c = modelRuns();
      const msg = JSON.stringify(c);
      expect(c.accepted, msg).toBeGreaterThan(c.runs * 20);
      expect(c.refused, msg).toBeGreaterThan(c.runs * 2);
      for (const key of [
        'rerunLimitHit',
        'containerFinished',
        'revokeCascade',
        'retries',
        'reentries',
        'deepStarts',
        'ignoredFailures',
        'staleVersionRefused',
      ] as const) {
        expect(c[key], `${key}: ${msg}`).toBeGreaterThan(MODEL_RUNS / 20);
      }
      console.log(`model-based coverage: ${msg}`);
    },
    MODEL_TIMEOUT,
  );
});
