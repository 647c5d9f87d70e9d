/**
 * Store.deleteTask (issue 8, DECISIONS 1), by example: which roots allow it and the refusal
 * otherwise, the event, what snapshots see before and after, registering the id again, and the
 * quotas given back. delete.property.test.ts checks the same at random.
 */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../src/model/index.js';
import { Store, type TaskDeleted } from '../../src/store/index.js';
import { dumpSnapshot, refusal, versionCounter } from './helpers.js';

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 'sp', kind: 'subprocess', children: [{ id: 'b', kind: 'activity' }] },
  ],
};

function setup() {
  let now = 1_000;
  const store = new Store({ clock: () => now, newVersion: versionCounter().next });
  store.createProject({ id: '1', name: 'p' });
  store.createProject({ id: '3', name: 'q' });
  store.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
  store.createTask({ id: '11', project_id: '1', name: 'eleven', pipeline: PIPELINE });
  const at = (t: number): Store => {
    now = t;
    return store;
  };
  return { store, at };
}

describe('deleteTask', () => {
  it('deletes a task whose root never started, is FINISHED or is REVOKED', () => {
    const { store } = setup();
    store.deleteTask('10'); // CREATED
    store.start('11', 'root');
    store.finish('11', 'root');
    store.deleteTask('11'); // FINISHED
    store.createTask({ id: '12', project_id: '1', name: 'twelve', pipeline: PIPELINE });
    store.start('12', 'root');
    store.start('12', 'a');
    store.revoke('12', 'root');
    store.deleteTask('12'); // REVOKED (and a with it)
    const snap = store.snapshot();
    expect([snap.size, [...snap.tasksInOrder()].length]).toEqual([0, 0]);
    for (const id of ['10', '11', '12']) expect(snap.getTask(id)).toBeUndefined();
  });

  it('refuses a task whose root is RUNNING, SUSPENDED or FAILED with 3545000 naming the task and the root state; nothing changes', () => {
    const { store } = setup();
    store.start('10', 'root');
    const cases: [string, () => void][] = [
      ['RUNNING', () => {}],
      ['SUSPENDED', () => store.pause('10', 'root')],
      [
        'FAILED',
        () => {
          store.resume('10', 'root');
          store.fail('10', 'root');
        },
      ],
    ];
    for (const [state, reach] of cases) {
      reach();
      const before = store.snapshot();
      expect(refusal(() => store.deleteTask('10'))).toEqual({
        code: 3545000,
        message: `cannot delete task 10: its root root is ${state}, delete needs CREATED, FINISHED or REVOKED`,
      });
      expect(store.snapshot()).toBe(before);
    }
  });

  it('refuses an unknown task with 3540400 and a task id that is not a string with 3540000', () => {
    const { store } = setup();
    expect(refusal(() => store.deleteTask('99'))).toEqual({ code: 3540400, message: 'task 99 does not exist' });
    expect(refusal(() => store.deleteTask(10 as unknown as string))).toEqual({
      code: 3540000,
      message: 'invalid taskId: must be a string',
    });
    store.deleteTask('10');
    expect(refusal(() => store.deleteTask('10'))).toEqual({ code: 3540400, message: 'task 10 does not exist' });
  });

  it("emits 'task_deleted' {seq, taskId, projectId, at} with the next seq, and returns it", () => {
    const { store, at } = setup();
    const heard: TaskDeleted[] = [];
    store.on('task_deleted', (e) => {
      heard.push(e);
    });
    at(2_000).start('11', 'root'); // seq 3
    const deleted = at(3_000).deleteTask('10');
    expect(deleted).toEqual({ seq: 4, taskId: '10', projectId: '1', at: 3_000 });
    expect(Object.keys(deleted)).toEqual(['seq', 'taskId', 'projectId', 'at']);
    expect(Object.isFrozen(deleted)).toBe(true);
    expect(heard).toEqual([deleted]);
    expect(store.start('11', 'a')[0].seq).toBe(5);
  });

  it('snapshots taken before still see the task, its records and histories; later ones do not', () => {
    const { store } = setup();
    store.start('10', 'root');
    store.start('10', 'a');
    store.fail('10', 'a', { ex_data: 'boom' });
    store.retry('10', 'a');
    store.revoke('10', 'root');
    const before = store.snapshot();
    const dump = dumpSnapshot(before);
    store.deleteTask('10');
    const after = store.snapshot();
    expect(dumpSnapshot(before)).toEqual(dump);
    expect(before.getTask('10')!.task.name).toBe('ten');
    expect(before.getNode('10', 'a')!.state).toBe('REVOKED');
    expect(before.getHistory('10', 'a')!.map((r) => r.ex_data)).toEqual(['boom']);
    expect([before.size, after.size]).toEqual([2, 1]);
    expect([...after.tasksInOrder()].map((t) => t.task.id)).toEqual(['11']);
    expect([after.getTask('10'), after.getNode('10', 'a'), after.getHistory('10', 'a')]).toEqual([undefined, undefined, undefined]);
  });

  it('the id can be registered again, in process; each snapshot sees the registration of its moment', () => {
    const { store } = setup();
    const first = store.snapshot();
    store.deleteTask('10');
    const between = store.snapshot();
    store.createTask({ id: '10', project_id: '3', name: 'ten again', pipeline: { id: 'p2', kind: 'pipeline' } });
    const second = store.snapshot();
    // deleted and registered again with no snapshot in between: the first registration is still found
    store.deleteTask('10');
    store.createTask({ id: '10', project_id: '1', name: 'ten thrice', pipeline: PIPELINE });
    store.deleteTask('10');
    store.createTask({ id: '10', project_id: '1', name: 'ten four', pipeline: PIPELINE });
    const third = store.snapshot();
    expect(first.getTask('10')!.task.name).toBe('ten');
    expect(first.getNode('10', 'a')!.state).toBe('CREATED');
    expect(between.getTask('10')).toBeUndefined();
    expect(second.getTask('10')!.task).toMatchObject({ name: 'ten again', project_id: '3' });
    expect(second.getNode('10', 'a')).toBeUndefined();
    expect(third.getTask('10')!.task.name).toBe('ten four');
    expect([...third.tasksInOrder()].map((t) => t.task.name)).toEqual(['eleven', 'ten four']);
  });

  it('gives back to the project what the task held: the task, its nodes, its histories and ex_data', () => {
    const { store } = setup();
    store.start('10', 'root');
    store.start('10', 'a');
    store.fail('10', 'a', { ex_data: { error: 'disk full' } });
    store.retry('10', 'a');
    store.start('10', 'a');
    store.fail('10', 'a', { ex_data: 'again' });
    store.revoke('10', 'root');
    expect(store.quota('1')!.usage).toEqual({ tasks: 2, nodes: 8, exDataBytes: 21 + 7, histories: 1 });
    store.deleteTask('10');
    expect(store.quota('1')!.usage).toEqual({ tasks: 1, nodes: 4, exDataBytes: 0, histories: 0 });
    store.deleteTask('11');
    expect(store.quota('1')!.usage).toEqual({ tasks: 0, nodes: 0, exDataBytes: 0, histories: 0 });
  });
});
