/**
 * Replay equivalence: random projects, tasks (nested pipelines, ids such as "__proto__") and
 * operation sequences (mostly legal, some not; ex_data and callback data of every JSON kind; a
 * stale version now and then), with checkpoints, deletions, restarts and crashes at random
 * points. After every restart, every answer (the status of every subtree, every node's detail
 * with its histories, the batch status of all tasks), every snapshot record and history, the
 * engine's cursor and its registries are exactly what they were before it; and the run goes on.
 *
 * Over the in-memory port (the same codec as SQLite, bytes and all) for many runs, and over the
 * real SQLite journal for fewer (each open starts a thread). FC_RUNS scales both.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/api/engine.js';
import { DurableEngine } from '../../src/api/durable-engine.js';
import type { EngineOperation, Json, NodeKind, Operation } from '../../src/lifecycle/index.js';
import type { NodeDefinition } from '../../src/model/index.js';
import { recordAt } from '../../src/store/index.js';
import { DEFAULT_DURABILITY, Durability } from '../../src/store/journal/index.js';
import { ManualTimers } from './manual-timers.js';
import { dumpSnapshot } from '../store/helpers.js';
import { MemoryPort } from './memory-port.js';
import { pumped } from './helpers.js';
import { runs } from '../fc-runs.js';

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Shape {
  readonly kind: NodeKind;
  readonly ignorable: boolean;
  readonly children: readonly Shape[];
}

const leaf: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constantFrom<NodeKind>('activity', 'event', 'gateway'),
  ignorable: fc.boolean(),
  children: fc.constant([]),
});
const shapeAt = (depth: number): fc.Arbitrary<Shape> =>
  depth === 0
    ? leaf
    : fc.oneof(
        { weight: 3, arbitrary: leaf },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant<NodeKind>('subprocess'),
            ignorable: fc.boolean(),
            children: fc.array(shapeAt(depth - 1), { maxLength: 3 }),
          }),
        },
      );
const pipeline: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant<NodeKind>('pipeline'),
  ignorable: fc.constant(false),
  children: fc.array(shapeAt(2), { minLength: 1, maxLength: 4 }),
});

const TRICKY_IDS = ['__proto__', 'constructor', 'toString', '10', '2'];

function definition(shape: Shape, tricky: boolean): NodeDefinition {
  let n = 0;
  const id = () => (tricky && n < TRICKY_IDS.length ? TRICKY_IDS[n++] : `n${n++}`);
  // Every third leaf carries policies (the journal must keep them: after a restart the scheduler arms them again).
  const policies = (s: Shape) =>
    s.children.length === 0 && s.kind === 'activity' && n % 3 === 0
      ? { auto_retry: { max_times: 2, interval_seconds: 5 }, timeout: { seconds: 60, action: 'forced_fail' } }
      : {};
  const build = (s: Shape): NodeDefinition =>
    ({
      ...policies(s),
      id: id(),
      name: `node ${n}`,
      kind: s.kind,
      error_ignorable: s.ignorable,
      children: s.children.map(build),
    }) as NodeDefinition;
  return build(shape);
}

const json: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constant(JSON.parse('{"__proto__": {"x": 1}, "constructor": [1, null, "s"], "a": {"b": true}}') as Json),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 3 }),
);

type Step =
  | { readonly kind: 'project'; readonly tz: string }
  | { readonly kind: 'task'; readonly shape: Shape; readonly tricky: boolean; readonly project: number }
  | {
      readonly kind: 'op';
      readonly pick: number;
      readonly which: number;
      readonly wild: boolean;
      readonly payload: Json | undefined;
      readonly staleVersion: boolean;
    }
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'checkpoint' }
  | { readonly kind: 'restart' }
  | { readonly kind: 'crash' };

const projectStep = fc.record({ kind: fc.constant('project' as const), tz: fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York') });
const taskStep = fc.record({ kind: fc.constant('task' as const), shape: pipeline, tricky: fc.boolean(), project: fc.nat() });

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: projectStep },
  { weight: 2, arbitrary: taskStep },
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('op' as const),
      pick: fc.nat(),
      which: fc.nat(),
      wild: fc.nat(9).map((n) => n < 2),
      payload: fc.option(json, { nil: undefined }),
      staleVersion: fc.nat(9).map((n) => n === 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

/** A few projects and tasks first, so that most steps have something to work on. */
const scenario = (maxSteps: number): fc.Arbitrary<Step[]> =>
  fc
    .tuple(
      fc.array(projectStep, { minLength: 1, maxLength: 3 }),
      fc.array(taskStep, { minLength: 1, maxLength: 4 }),
      fc.array(step, { minLength: 10, maxLength: maxSteps, size: 'max' }),
    )
    .map(([p, t, s]) => [...p, ...t, ...s]);

type Op = Operation | EngineOperation;
const OPS: readonly Op[] = [
  'start',
  'finish',
  'fail',
  'forced_fail',
  'pause',
  'resume',
  'retry',
  'skip',
  'reenter',
  'revoke',
  'callback',
  'auto_retry',
];

/**
 * What every engine of a scenario is given: histories capped at 2 attempts (so attempts drop and
 * replay must count them), small quotas (so refusals happen and usage must be rebuilt), and
 * policy timers that never fire on their own (a timer is armed, and counted, but the scenario
 * decides every change).
 */
const ENGINE_OPTIONS = {
  limits: { maxNodeHistories: 2 },
  quotas: { default: { maxTasks: 5, maxHistories: 12, maxExDataBytes: 400 } },
  timers: { schedule: () => () => {} },
};

/** Nodes an operation plausibly applies to now (not the lifecycle's exact rule: refusals happen too). */
function candidates(engine: Engine, taskId: string, op: Op): string[] {
  const task = engine.snapshot().getTask(taskId);
  if (task === undefined) return [];
  const out: string[] = [];
  for (let i = 0; i < task.definition.size; i++) {
    const s = recordAt(task, i).state;
    const container = task.definition.end[i] > i + 1 || task.definition.kinds[i] <= 1;
    const fits: Record<Op, boolean> = {
      start: s === 'CREATED' || s === 'READY',
      finish: s === 'RUNNING',
      fail: s === 'RUNNING',
      forced_fail: s === 'RUNNING' && !container,
      pause: container ? s === 'RUNNING' : s === 'CREATED' || s === 'READY',
      resume: s === 'SUSPENDED',
      retry: s === 'FAILED',
      skip: s === 'FAILED',
      reenter: s === 'FINISHED',
      revoke: i === 0,
      callback: s === 'RUNNING' && !container,
      auto_retry: s === 'FAILED',
    };
    if (fits[op]) out.push(task.definition.ids[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driving an engine through a scenario

/** What restarts must not change: every answer, every record and history, the cursor, the registries. */
function everything(engine: Engine): string {
  const snap = engine.snapshot();
  const ctx = { request_id: 'r', trace_id: 't' };
  const answers: unknown[] = [];
  const ids: string[] = [];
  for (const task of snap.tasksInOrder()) {
    ids.push(task.task.id);
    const base = { bk_biz_id: task.task.project_id, scope: 'project', task_id: task.task.id };
    for (const nodeId of task.definition.ids) {
      answers.push(engine.getTaskStatus({ ...base, subprocess_id: nodeId, with_ex_data: true }, ctx));
      answers.push(engine.getTaskNodeDetail({ ...base, node_id: nodeId, with_ex_data: true }, ctx));
    }
  }
  for (const task of snap.tasksInOrder()) {
    // roll-ups (the records trie's class counts) of every subtree, and the node pages
    const base = { bk_biz_id: task.task.project_id, scope: 'project', task_id: task.task.id };
    for (const nodeId of task.definition.ids) answers.push(engine.getTaskSummary({ ...base, subprocess_id: nodeId }, ctx));
    answers.push(engine.getTaskNodes({ ...base, limit: 500 }, ctx));
  }
  for (const p of snap.projectsInOrder()) {
    answers.push(p, engine.getTasksStatus({ bk_biz_id: p.id, scope: 'project', task_id_list: ids, include_children_status: true }, ctx));
    // the root-state index, and quota usage
    for (const filter of [{}, { is_started: true }, { is_finished: false }, { root_state: 'FAILED' }]) {
      answers.push(engine.getTaskList({ bk_biz_id: p.id, scope: 'project', limit: 200, ...filter }, ctx));
    }
    answers.push(engine.quota(p.id));
  }
  return JSON.stringify({
    cursor: engine.cursor,
    size: snap.size,
    highestTaskId: engine.highestTaskId,
    armed: engine.policies.armed,
    answers,
    dump: [...dumpSnapshot(snap)].map(([t, nodes]) => [t, [...nodes]]),
  });
}

interface Harness {
  engine: Engine;
  /** everything accepted is durable */
  flush(): Promise<void>;
  checkpoint(): Promise<void>;
  /** clean shutdown and reopen */
  restart(): Promise<void>;
  /** the process dies (after the last change was durable) and starts again */
  crash(): Promise<void>;
  close(): Promise<void>;
}

async function run(h: Harness, steps: readonly Step[], clock: { now: number }): Promise<void> {
  let projects = 0;
  let tasks = 0;
  const live = () => [...h.engine.snapshot().tasksInOrder()].map((t) => t.task.id);
  for (const s of steps) {
    clock.now += 1_001;
    switch (s.kind) {
      case 'project':
        h.engine.createProject({ id: String(++projects), bk_biz_id: String(100 + projects), name: `p${projects}`, time_zone: s.tz });
        break;
      case 'task':
        if (projects === 0) break;
        try {
          // every other task gets its id assigned (one plus the highest ever, deleted ones included)
          const id = s.tricky ? undefined : String(++tasks);
          h.engine.createTask({
            id,
            project_id: String(1 + (s.project % projects)),
            name: `t${tasks}`,
            pipeline: definition(s.shape, s.tricky),
          });
        } catch (e) {
          if ((e as { code?: number }).code === undefined || (e as { code: number }).code === 3599999) throw e;
        }
        break;
      case 'op': {
        const ids = live();
        if (ids.length === 0) break;
        const taskId = ids[s.pick % ids.length];
        const usable = OPS.filter((op) => candidates(h.engine, taskId, op).length > 0);
        const op = s.wild || usable.length === 0 ? OPS[s.which % OPS.length] : usable[s.which % usable.length];
        const nodes = s.wild ? h.engine.snapshot().getTask(taskId)!.definition.ids : candidates(h.engine, taskId, op);
        const nodeId = nodes[(s.which >> 4) % nodes.length];
        const args = {
          ...((op === 'fail' || op === 'forced_fail') && s.payload !== undefined ? { ex_data: s.payload } : {}),
          ...(op === 'callback' && s.payload !== undefined ? { data: s.payload } : {}),
          ...(s.staleVersion ? { version: 'f'.repeat(32) } : {}),
        };
        try {
          h.engine.apply(taskId, nodeId, op, args);
        } catch (e) {
          if ((e as { code?: number }).code === undefined || (e as { code: number }).code === 3599999) throw e;
        }
        break;
      }
      case 'delete': {
        const ids = live();
        if (ids.length === 0) break;
        try {
          h.engine.deleteTask(ids[s.pick % ids.length]);
        } catch (e) {
          if ((e as { code?: number }).code !== 3545000) throw e;
        }
        break;
      }
      case 'checkpoint':
        await h.checkpoint();
        break;
      case 'restart':
      case 'crash': {
        await h.flush();
        const before = everything(h.engine);
        await (s.kind === 'restart' ? h.restart() : h.crash());
        expect(everything(h.engine)).toBe(before);
        break;
      }
    }
  }
  await h.flush();
  const before = everything(h.engine);
  await h.restart();
  expect(everything(h.engine)).toBe(before);
  await h.close();
}

// ---------------------------------------------------------------------------------------------
// Harnesses

async function overMemory(clock: { now: number }): Promise<Harness> {
  const port = new MemoryPort();
  const open = async () => {
    const timers = new ManualTimers();
    const engine = new Engine({ ...ENGINE_OPTIONS, clock: () => clock.now });
    const durability = await Durability.open(engine, port, engine.clock, {
      ...DEFAULT_DURABILITY,
      mode: 'always',
      timers,
      log: () => {},
      checkpoint: { ...DEFAULT_DURABILITY.checkpoint, keepChanges: 5, chunk: 3 },
    });
    // as DurableEngine.open does: the scheduler hears of every recovered task
    for (const t of engine.snapshot().tasksInOrder()) engine.policies.follow(t.task.id);
    return { engine, durability, timers };
  };
  let current = await open();
  const pump = (p: Promise<unknown>) => pumped(current.timers, p);
  return {
    get engine() {
      return current.engine;
    },
    flush: () => pump(current.engine.durable()),
    checkpoint: () => pump(current.durability.checkpoint()),
    restart: async () => {
      await pump(current.durability.close());
      current = await open();
    },
    crash: async () => {
      current = await open();
    },
    close: () => pump(current.durability.close()),
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Over SQLite, a crash is a copy of the data directory taken while the engine runs (after its
 * last change was written): what the disk holds when the process dies. The run goes on there.
 */
async function overSqlite(clock: { now: number }): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'pipestate-replay-'));
  dirs.push(dir);
  let generation = 0;
  let dataDir = join(dir, `data${generation}`);
  const open = () =>
    DurableEngine.open({
      ...ENGINE_OPTIONS,
      dataDir,
      clock: () => clock.now,
      durability: 'off',
      log: () => {},
      checkpoint: { keepChanges: 5, chunk: 3 },
    });
  let engine = await open();
  return {
    get engine() {
      return engine;
    },
    flush: () => engine.durable(),
    checkpoint: async () => {
      await engine.checkpoint();
    },
    restart: async () => {
      await engine.close();
      engine = await open();
    },
    crash: async () => {
      const crashed = join(dir, `data${++generation}`);
      cpSync(dataDir, crashed, { recursive: true });
      await engine.close();
      dataDir = crashed;
      engine = await open();
    },
    close: () => engine.close(),
  };
}

describe('replay', () => {
  it('restores every answer, record, history and cursor (in-memory port, same codec)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(120), async (steps) => {
        const clock = { now: 1_700_000_000_000 };
        await run(await overMemory(clock), steps, clock);
      }),
      { numRuns: runs('journalReplay') },
    );
  });

  it('restores every answer, record, history and cursor (SQLite journal)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(60), async (steps) => {
        const clock = { now: 1_700_000_000_000 };
        await run(await overSqlite(clock), steps, clock);
      }),
      { numRuns: runs('journalReplaySqlite') },
    );
  });
});
