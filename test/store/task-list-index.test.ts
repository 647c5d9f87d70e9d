/**
 * The per-project index of tasks by root state against a plain filtered list, through
 * registrations (past the Fenwick trees' growth points), root moves and removals; and the store
 * keeping it current.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATES, type State } from '../../src/lifecycle/index.js';
import { Store } from '../../src/store/index.js';
import { ALL_STATES, TaskListIndex, maskOf } from '../../src/store/task-list-index.js';
import { runs } from '../fc-runs.js';

describe('the task list index', () => {
  it('counts and ranks like a filtered list, newest first', () => {
    const stepArb = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('add' as const), project: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('move' as const), task: fc.nat(), state: fc.constantFrom(...STATES) }), weight: 2 },
      { arbitrary: fc.record({ kind: fc.constant('remove' as const), task: fc.nat() }), weight: 1 },
    );
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 700, size: 'max' }),
        fc.array(fc.nat({ max: 127 }), { minLength: 1, maxLength: 8 }),
        (steps, masks) => {
          const index = new TaskListIndex();
          const tasks: { id: string; project: string; state: State; gone: boolean }[] = [];
          for (const step of steps) {
            if (step.kind === 'add') {
              const id = String(tasks.length + 1);
              tasks.push({ id, project: String(step.project), state: 'CREATED', gone: false });
              index.registered(id, String(step.project), `task ${id}`);
            } else if (tasks.length > 0) {
              const t = tasks[step.task % tasks.length];
              if (step.kind === 'move') {
                if (!t.gone) t.state = step.state;
                index.rootMoved(t.id, step.state);
              } else {
                t.gone = true;
                index.removed(t.id);
              }
            }
          }
          for (const project of ['1', '2', '3']) {
            const list = index.project(project);
            const mine = tasks.filter((t) => t.project === project && !t.gone).reverse();
            if (list === undefined) {
              expect(mine).toEqual([]);
              continue;
            }
            for (const mask of [...masks, ALL_STATES, 0]) {
              const expected = mine.filter((t) => (mask & maskOf([t.state])) !== 0).map((t) => t.id);
              expect(list.count(mask)).toBe(expected.length);
              const ranked = expected.map((_, rank) => list.newest(mask, rank));
              expect(ranked).toEqual(expected);
              expect(list.newest(mask, expected.length)).toBeUndefined();
            }
            const scanned: string[] = [];
            list.scanNewestFirst((id, name, state) => {
              scanned.push(`${id} ${name} ${state}`);
            });
            expect(scanned).toEqual(mine.map((t) => `${t.id} task ${t.id} ${t.state}`));
          }
        },
      ),
      { numRuns: runs('storeTaskListIndex') },
    );
  });

  it('at each size around the growth points (64, 128 tasks), every rank of every state is right', () => {
    // A project grows its Fenwick trees at its 65th and 129th task: the last task before a growth
    // and the first after it are where a tree can miss one.
    for (const size of [1, 63, 64, 65, 66, 127, 128, 129]) {
      const index = new TaskListIndex();
      const ids = Array.from({ length: size }, (_, i) => String(i + 1));
      for (const id of ids) index.registered(id, '1', `t${id}`);
      // every third task RUNNING, the last one FAILED
      for (let i = 0; i < size; i += 3) index.rootMoved(ids[i], 'RUNNING');
      index.rootMoved(ids[size - 1], 'FAILED');
      const state = (i: number): State => (i === size - 1 ? 'FAILED' : i % 3 === 0 ? 'RUNNING' : 'CREATED');
      const list = index.project('1')!;
      for (const s of ['RUNNING', 'CREATED', 'FAILED'] as const) {
        const expected = ids.filter((_, i) => state(i) === s).reverse();
        expect(
          expected.map((_, rank) => list.newest(maskOf([s]), rank)),
          `${s} of ${size}`,
        ).toEqual(expected);
      }
      expect(list.newest(ALL_STATES, 0)).toBe(String(size));
      expect(list.newest(ALL_STATES, size - 1)).toBe('1');
      // past either end: nothing (at 64 tasks, a descent for rank -1 would land on the last one)
      expect([list.newest(ALL_STATES, -1), list.newest(ALL_STATES, size)]).toEqual([undefined, undefined]);
    }
  });

  it('a rank that is not a whole number from 0 to below the count answers nothing', () => {
    const index = new TaskListIndex();
    for (const id of ['1', '2', '3']) index.registered(id, '1', `t${id}`);
    const list = index.project('1')!;
    expect([0, 1, 2].map((rank) => list.newest(ALL_STATES, rank))).toEqual(['3', '2', '1']);
    for (const rank of [-1, 3, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(list.newest(ALL_STATES, rank), String(rank)).toBeUndefined();
    expect(list.newest(maskOf(['RUNNING']), 0)).toBeUndefined();
  });

  it('follows the roots of the tasks a store registers and operates', () => {
    const store = new Store({ clock: () => 1 });
    store.createProject({ id: '1', name: 'p' });
    store.createProject({ id: '2', name: 'q' });
    const pipeline = { id: 'r', kind: 'pipeline' as const, children: [{ id: 'a', kind: 'activity' as const }] };
    for (const id of ['10', '11', '12']) store.createTask({ id, project_id: '1', name: `t${id}`, pipeline });
    store.createTask({ id: '20', project_id: '2', name: 't20', pipeline });
    store.start('11', 'r');
    store.start('12', 'r');
    store.start('12', 'a'); // not the root: the index does not move
    store.revoke('12', 'r');
    const list = store.taskListOf('1')!;
    expect([list.count(maskOf(['CREATED'])), list.count(maskOf(['RUNNING'])), list.count(maskOf(['REVOKED']))]).toEqual([1, 1, 1]);
    expect([0, 1, 2].map((k) => list.newest(ALL_STATES, k))).toEqual(['12', '11', '10']);
    expect(list.newest(maskOf(['RUNNING', 'CREATED']), 1)).toBe('10');
    expect(store.taskListOf('2')!.count(ALL_STATES)).toBe(1);
    expect(store.taskListOf('3')).toBeUndefined();
  });
});
