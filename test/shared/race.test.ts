/**
 * Races on the command path (issue 11): two instances on one database send conflicting commands
 * on one task at the same moment. For every pair of operations that SPEC §2 lets conflict, the
 * outcome (both answers and the task's state after) must be exactly what one in-process engine
 * gives when the two arrive one after the other, in one order or the other: one is accepted and
 * the other answered as it would be after the winner (usually 3545000).
 */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/lifecycle/index.js';
import { createEngine, PipestateError, type Engine } from '../../src/index.js';
import type { SharedEngine } from '../../src/api/shared-engine.js';
import type { Snapshot } from '../../src/store/index.js';
import { PIPELINE, PROJECT, sharedSuite } from './helpers.js';

type Step = readonly [
  op: Operation | 'delete',
  node: string,
  args?: { readonly versionOf?: string; readonly ex_data?: string; readonly data?: string },
];

interface Scenario {
  readonly name: string;
  readonly setup: readonly Step[];
  readonly race: readonly [Step, Step];
  /** exactly one of the two can be accepted */
  readonly exclusive: boolean;
}

const RUN: Step = ['start', 'root'];
const SCENARIOS: readonly Scenario[] = [
  {
    name: 'retry / retry',
    setup: [RUN, ['start', 'a'], ['fail', 'a']],
    race: [
      ['retry', 'a'],
      ['retry', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'retry / skip',
    setup: [RUN, ['start', 'a'], ['fail', 'a']],
    race: [
      ['retry', 'a'],
      ['skip', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'skip / skip',
    setup: [RUN, ['start', 'a'], ['fail', 'a']],
    race: [
      ['skip', 'a'],
      ['skip', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'finish / fail',
    setup: [RUN, ['start', 'a']],
    race: [
      ['finish', 'a'],
      ['fail', 'a', { ex_data: 'boom' }],
    ],
    exclusive: true,
  },
  {
    name: 'finish / forced_fail',
    setup: [RUN, ['start', 'a']],
    race: [
      ['finish', 'a'],
      ['forced_fail', 'a', { ex_data: 'stop' }],
    ],
    exclusive: true,
  },
  {
    name: 'fail / forced_fail',
    setup: [RUN, ['start', 'a']],
    race: [
      ['fail', 'a'],
      ['forced_fail', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'start / start',
    setup: [RUN],
    race: [
      ['start', 'a'],
      ['start', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'start / pause of a leaf not started',
    setup: [RUN],
    race: [
      ['start', 'a'],
      ['pause', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'reenter / reenter',
    setup: [RUN, ['start', 'a'], ['finish', 'a']],
    race: [
      ['reenter', 'a'],
      ['reenter', 'a'],
    ],
    exclusive: true,
  },
  {
    name: 'callback (versioned) / forced_fail',
    setup: [RUN, ['start', 'a']],
    race: [
      ['callback', 'a', { versionOf: 'a', data: 'ok' }],
      ['forced_fail', 'a'],
    ],
    exclusive: false,
  },
  {
    name: 'callback (versioned) / finish',
    setup: [RUN, ['start', 'a']],
    race: [
      ['callback', 'a', { versionOf: 'a', data: 'ok' }],
      ['finish', 'a'],
    ],
    exclusive: false,
  },
  {
    name: 'finish of a leaf / revoke',
    setup: [RUN, ['start', 'a']],
    race: [
      ['finish', 'a'],
      ['revoke', 'root'],
    ],
    exclusive: false,
  },
  {
    name: 'fail of a leaf / revoke',
    setup: [RUN, ['start', 'b']],
    race: [
      ['fail', 'b'],
      ['revoke', 'root'],
    ],
    exclusive: false,
  },
  {
    name: 'pause / revoke of the root',
    setup: [RUN],
    race: [
      ['pause', 'root'],
      ['revoke', 'root'],
    ],
    exclusive: false,
  },
  {
    name: 'resume / revoke of the root',
    setup: [RUN, ['pause', 'root']],
    race: [
      ['resume', 'root'],
      ['revoke', 'root'],
    ],
    exclusive: false,
  },
  {
    name: 'finish / revoke of the root',
    setup: [RUN],
    race: [
      ['finish', 'root'],
      ['revoke', 'root'],
    ],
    exclusive: true,
  },
  {
    name: 'pause / finish of a subprocess',
    setup: [RUN, ['start', 'sub']],
    race: [
      ['pause', 'sub'],
      ['finish', 'sub'],
    ],
    exclusive: true,
  },
  {
    name: 'finish of a subprocess / start of its child',
    setup: [RUN, ['start', 'sub']],
    race: [
      ['finish', 'sub'],
      ['start', 'c'],
    ],
    exclusive: true,
  },
  {
    name: 'start of a child / pause of its subprocess',
    setup: [RUN, ['start', 'sub']],
    race: [
      ['start', 'c'],
      ['pause', 'sub'],
    ],
    exclusive: false,
  },
  {
    name: 'delete / reenter of a finished task',
    setup: [RUN, ['finish', 'root']],
    race: [
      ['delete', 'root'],
      ['reenter', 'root'],
    ],
    exclusive: true,
  },
];

/** An answer as it can be compared across engines: versions and times left out. */
type Outcome = { ok: true; changes: string[] } | { ok: false; code: number; message: string };

const HEX = /\b[0-9a-f]{32}\b/g;

function argsOf(step: Step, snap: Snapshot, taskId: string): Record<string, string> {
  const a = step[2] ?? {};
  return {
    ...(a.versionOf !== undefined ? { version: snap.getNode(taskId, a.versionOf)!.version } : {}),
    ...(a.ex_data !== undefined ? { ex_data: a.ex_data } : {}),
    ...(a.data !== undefined ? { data: a.data } : {}),
  };
}

function outcomeOf(
  result:
    | { seq?: number; nodeId: string; from: string; to: string; record?: { loop: number; retry: number; skip: boolean } }[]
    | PipestateError,
): Outcome {
  if (result instanceof PipestateError) return { ok: false, code: result.code, message: result.message.replace(HEX, '<version>') };
  return {
    ok: true,
    changes: result.map(
      (c) => `${c.nodeId}:${c.from}->${c.to}${c.record ? ` l${c.record.loop} r${c.record.retry} s${c.record.skip}` : ''}`,
    ),
  };
}

/** The task's state, comparable across engines: per node its state, counters and history length. */
function stateOf(snap: Snapshot, taskId: string): string[] | 'gone' {
  if (snap.getTask(taskId) === undefined) return 'gone';
  return ['root', 'a', 'b', 'sub', 'c', 'd'].map((n) => {
    const r = snap.getNode(taskId, n)!;
    return `${n}:${r.state} l${r.loop} r${r.retry} s${r.skip} i${r.error_ignored} h${snap.getHistory(taskId, n)!.length}`;
  });
}

function inProcess(engine: Engine, taskId: string, step: Step): Outcome {
  try {
    if (step[0] === 'delete') {
      const d = engine.deleteTask(taskId);
      return { ok: true, changes: [`deleted ${d.taskId}`] };
    }
    return outcomeOf(engine.apply(taskId, step[1], step[0], argsOf(step, engine.snapshot(), taskId)));
  } catch (error) {
    if (error instanceof PipestateError) return outcomeOf(error);
    throw error;
  }
}

async function shared(engine: SharedEngine, taskId: string, step: Step): Promise<Outcome> {
  try {
    if (step[0] === 'delete') {
      const d = await engine.deleteTask(taskId);
      return { ok: true, changes: [`deleted ${d.taskId}`] };
    }
    return outcomeOf(await engine.apply(taskId, step[1], step[0], argsOf(step, engine.snapshot(), taskId)));
  } catch (error) {
    if (error instanceof PipestateError) return outcomeOf(error);
    throw error;
  }
}

/** What one in-process engine answers when the two steps arrive in this order, and the state after. */
function serial(s: Scenario, order: readonly [0, 1] | readonly [1, 0]): { outcomes: [Outcome, Outcome]; state: string[] | 'gone' } {
  const engine = createEngine();
  engine.createProject(PROJECT);
  engine.createTask({ id: '1', project_id: '1', name: 'race', pipeline: PIPELINE });
  for (const step of s.setup) {
    const o = inProcess(engine, '1', step);
    if (!o.ok) throw new Error(`setup step ${step.join(' ')} refused: ${o.message}`);
  }
  const outcomes: Outcome[] = [];
  for (const k of order) outcomes[k] = inProcess(engine, '1', s.race[k]);
  return { outcomes: outcomes as [Outcome, Outcome], state: stateOf(engine.snapshot(), '1') };
}

const grouped = sharedSuite(2);
const alone = sharedSuite(2, { groupCommit: false });

/** Task ids in messages differ between the shared run and the reference: name the task "1" in both. */
const renamed = (o: Outcome, taskId: string): Outcome =>
  o.ok
    ? { ok: true, changes: o.changes.map((c) => c.replace(`deleted ${taskId}`, 'deleted 1')) }
    : { ...o, message: o.message.replace(`task ${taskId}`, 'task 1') };

for (const [mode, suite] of [
  ['group commit', grouped],
  ['a transaction per command', alone],
] as const) {
  describe(`two instances racing on one task (${mode})`, () => {
    for (const s of SCENARIOS) {
      it(`${s.name}: the outcome is one of the two serial orders`, async () => {
        const [a, b] = suite.engines();
        const orders = [serial(s, [0, 1]), serial(s, [1, 0])];
        // Each engine sends each of the two commands once: (a, b) then (b, a).
        for (const [first, second] of [
          [a, b],
          [b, a],
        ] as const) {
          const task = await first.createTask({ project_id: '1', name: 'race', pipeline: PIPELINE });
          let cursor = 0;
          for (const step of s.setup) {
            const changes = await first.apply(task.id, step[1], step[0] as Operation, argsOf(step, first.snapshot(), task.id));
            cursor = changes[changes.length - 1].seq;
          }
          await second.reflect(cursor);
          const observed = (await Promise.all([shared(first, task.id, s.race[0]), shared(second, task.id, s.race[1])])).map((o) =>
            renamed(o, task.id),
          );
          const last = Math.max(first.cursor, second.cursor);
          await first.reflect(last);
          await second.reflect(last);
          const stateA = stateOf(first.snapshot(), task.id);
          expect(stateOf(second.snapshot(), task.id)).toEqual(stateA);
          const matches = orders.filter(
            (o) => JSON.stringify(o.outcomes) === JSON.stringify(observed) && JSON.stringify(o.state) === JSON.stringify(stateA),
          );
          expect(
            matches.length,
            `observed ${JSON.stringify(observed)} / ${JSON.stringify(stateA)}; serial orders: ${JSON.stringify(orders)}`,
          ).toBeGreaterThan(0);
          if (s.exclusive) expect(observed.filter((o) => o.ok)).toHaveLength(1);
        }
      });
    }
  });
}
