/**
 * Task ids (issue 8, DECISIONS 2): positive integers up to 2^53 - 1 written without leading
 * zeros; chosen by an embedder, or assigned as one plus the highest id ever registered, so an
 * assigned id is never one a deleted task had.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TASK_ID, type NodeDefinition } from '../../src/model/index.js';
import { taskIdOf } from '../../src/model/task-id.js';
import { Store } from '../../src/store/index.js';
import { refusal } from './helpers.js';

const PIPELINE: NodeDefinition = { id: 'r', kind: 'pipeline', children: [{ id: 'a', kind: 'activity' }] };

function setup() {
  const store = new Store({ clock: () => 1_000 });
  store.createProject({ id: '1', name: 'p' });
  return store;
}

describe('task ids', () => {
  it('without an id, a task gets one plus the highest id ever registered', () => {
    const store = setup();
    const create = (id?: string): string => store.createTask({ id, project_id: '1', name: 't', pipeline: PIPELINE }).id;
    expect(create()).toBe('1');
    expect(create()).toBe('2');
    expect(create('100')).toBe('100');
    expect(create('50')).toBe('50');
    expect(create()).toBe('101');
  });

  it('an assigned id is never reused, even when the task that had it is deleted', () => {
    const store = setup();
    const create = (): string => store.createTask({ project_id: '1', name: 't', pipeline: PIPELINE }).id;
    expect([create(), create()]).toEqual(['1', '2']);
    store.deleteTask('2');
    store.deleteTask('1');
    expect(create()).toBe('3');
    // an embedder may still register a deleted id again, by name
    expect(store.createTask({ id: '2', project_id: '1', name: 'again', pipeline: PIPELINE }).id).toBe('2');
    expect(create()).toBe('4');
  });

  it('refuses ids that are not positive integers in canonical digits, or past 2^53 - 1, naming the field', () => {
    const store = setup();
    const message = 'invalid task.id: must be a positive integer up to 9007199254740991, in digits without leading zeros';
    for (const id of ['0', '007', '9007199254740992', '99999999999999999', '1e3', ' 1', '-1', '']) {
      expect(refusal(() => store.createTask({ id, project_id: '1', name: 't', pipeline: PIPELINE }))).toEqual({ code: 3540000, message });
    }
    expect(refusal(() => store.createTask({ id: 12 as unknown as string, project_id: '1', name: 't', pipeline: PIPELINE }))).toEqual({
      code: 3540000,
      message: 'invalid task.id: must be a string',
    });
    expect(store.snapshot().size).toBe(0);
    expect(store.createTask({ id: String(MAX_TASK_ID), project_id: '1', name: 't', pipeline: PIPELINE }).id).toBe('9007199254740991');
  });

  it('once 2^53 - 1 is registered no id is left to assign: refused, and nothing changes', () => {
    const store = setup();
    store.createTask({ id: String(MAX_TASK_ID), project_id: '1', name: 't', pipeline: PIPELINE });
    const before = store.snapshot();
    expect(refusal(() => store.createTask({ project_id: '1', name: 't', pipeline: PIPELINE }))).toEqual({
      code: 3540000,
      message: 'invalid task.id: no id is left to assign: task 9007199254740991 has been registered',
    });
    expect(store.snapshot()).toBe(before);
    expect(store.createTask({ id: '5', project_id: '1', name: 't', pipeline: PIPELINE }).id).toBe('5');
  });

  it('a refused registration uses no id up', () => {
    const store = setup();
    expect(
      refusal(() => store.createTask({ project_id: '1', name: 't', pipeline: { id: 'r', kind: 'activity' } as NodeDefinition })).code,
    ).toBe(3540000);
    expect(refusal(() => store.createTask({ project_id: '9', name: 't', pipeline: PIPELINE })).code).toBe(3540400);
    expect(store.createTask({ project_id: '1', name: 't', pipeline: PIPELINE }).id).toBe('1');
  });

  it('a task id in a request: digits or a number from 1 to 2^53-1 (both ends included), in canonical form', () => {
    expect(['1', '007', '9007199254740991', 9_007_199_254_740_991, 42].map(taskIdOf)).toEqual([
      '1',
      '7',
      '9007199254740991',
      '9007199254740991',
      '42',
    ]);
    for (const bad of ['0', '9007199254740992', '12345678901234567', '1.5', '', 0, -3, 1.5, null])
      expect(taskIdOf(bad), String(bad)).toBeUndefined();
  });
});
