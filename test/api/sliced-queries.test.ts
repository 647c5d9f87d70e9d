/**
 * The queries in slices: the same answers as the one-go methods, with checkpoints in between
 * that a server can use to let other work in, and one snapshot read throughout even while the
 * store keeps changing between two checkpoints.
 */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../src/index.js';
import { CTX, clockedEngine, withProjects } from './helpers.js';

/** A root with `subs` subprocesses of `leaves` activities each, every node started. */
function bigTask(subs: number, leaves: number) {
  const c = withProjects(clockedEngine());
  const children: NodeDefinition[] = [];
  for (let s = 0; s < subs; s++) {
    const kids: NodeDefinition[] = [];
    for (let l = 0; l < leaves; l++) kids.push({ id: `n${s}_${l}`, name: `leaf ${l}`, kind: 'activity' });
    children.push({ id: `s${s}`, name: `sub ${s}`, kind: 'subprocess', children: kids });
  }
  c.engine.createTask({ id: '10', project_id: '1', name: 'big', pipeline: { id: 'root', name: 'root', kind: 'pipeline', children } });
  c.engine.start('10', 'root');
  for (let s = 0; s < subs; s++) {
    c.engine.start('10', `s${s}`);
    for (let l = 0; l < leaves; l++) c.engine.start('10', `n${s}_${l}`);
  }
  return c;
}

/** Runs sliced work, calling `between` at every checkpoint; returns the result and the checkpoint count. */
function drive<T>(work: Generator<void, T, undefined>, between: (k: number) => void = () => {}): { value: T; checkpoints: number } {
  let checkpoints = 0;
  for (;;) {
    const step = work.next();
    if (step.done) return { value: step.value, checkpoints };
    between(++checkpoints);
  }
}

describe('queries in slices', () => {
  const request = { bk_biz_id: '2', task_id: '10', with_ex_data: true };

  it('get_task_status: the same answer as in one go, with a checkpoint every few hundred nodes', () => {
    const c = bigTask(20, 100); // 2,021 nodes
    const whole = c.engine.getTaskStatus(request, CTX);
    const { value, checkpoints } = drive(c.engine.getTaskStatusSliced(request, CTX));
    expect(JSON.stringify(value)).toBe(JSON.stringify(whole));
    expect(checkpoints).toBeGreaterThanOrEqual(7);
  });

  it('reads the snapshot of its first step, whatever changes between checkpoints', () => {
    const c = bigTask(20, 100);
    const before = JSON.stringify(c.engine.getTaskStatus(request, CTX));
    const { value } = drive(c.engine.getTaskStatusSliced(request, CTX), (k) => {
      c.engine.finish('10', `n${k % 20}_${k}`);
      c.engine.fail('10', `n${(k + 7) % 20}_${k + 1}`, { ex_data: `boom ${k}` });
    });
    expect(JSON.stringify(value)).toBe(before);
    expect(JSON.stringify(c.engine.getTaskStatus(request, CTX))).not.toBe(before);
  });

  it('get_tasks_status with children and get_task_node_detail answer as in one go', () => {
    const c = bigTask(10, 60);
    const batch = { bk_biz_id: '2', task_id_list: ['10', '11', '10'], include_children_status: true };
    expect(JSON.stringify(drive(c.engine.getTasksStatusSliced(batch, CTX)).value)).toBe(
      JSON.stringify(c.engine.getTasksStatus(batch, CTX)),
    );
    const detail = { bk_biz_id: '2', task_id: '10', node_id: 's3' };
    expect(JSON.stringify(drive(c.engine.getTaskNodeDetailSliced(detail, CTX)).value)).toBe(
      JSON.stringify(c.engine.getTaskNodeDetail(detail, CTX)),
    );
  });

  it('a refusal is an envelope too, before any checkpoint', () => {
    const c = bigTask(1, 1);
    const { value, checkpoints } = drive(c.engine.getTaskStatusSliced({ bk_biz_id: '2', task_id: '99' }, CTX));
    expect(value).toMatchObject({ result: false, code: 3540400, message: 'task 99 does not exist' });
    expect(checkpoints).toBe(0);
  });
});
