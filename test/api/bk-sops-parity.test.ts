/**
 * What today's bk-sops answers beyond the seed: get_tasks_status entries with its ten keys in its
 * order, and get_task_status' with_failed_node_info and with_auto_retry_status, pinned as exact
 * JSON (keys and order from gcloud/apigw/views/get_tasks_status.py, get_task_status.py and
 * gcloud/taskflow3/utils.py).
 */
import { describe, expect, it } from 'vitest';
import { createEngine, ManualClock, type NodeDefinition } from '../../src/index.js';
import { CTX, T0, clockedEngine, leaf, pipe, sub, version, withProjects } from './helpers.js';

const T = '2020-08-17 20:13:53 +0800';
const retrying = (id: string, max_times: number): NodeDefinition => ({
  id,
  name: id,
  kind: 'activity',
  auto_retry: { max_times, interval_seconds: 5 },
});

describe('get_tasks_status entries', () => {
  it("carry bk-sops' keys in bk-sops' order, the id a JSON number", () => {
    const c = withProjects(
      clockedEngine(T0, { taskUrl: 'https://sops.example.com/taskflow/execute/{project_id}/?instance_id={task_id}&biz={bk_biz_id}' }),
    );
    c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a')) });
    c.tick(2000);
    c.engine.start('10', 'r');
    const [entry] = c.engine.getTasksStatus({ bk_biz_id: '2', task_id_list: [10] }, CTX).data!;
    expect(Object.keys(entry)).toEqual([
      'id',
      'name',
      'status',
      'flow_type',
      'current_flow',
      'is_deleted',
      'create_time',
      'start_time',
      'finish_time',
      'url',
    ]);
    const { status: _status, ...fields } = entry;
    expect(fields).toStrictEqual({
      id: 10,
      name: 'ten',
      flow_type: 'common',
      current_flow: 'execute_task',
      is_deleted: false,
      create_time: T,
      start_time: '2020-08-17 20:13:55 +0800',
      finish_time: '',
      url: 'https://sops.example.com/taskflow/execute/1/?instance_id=10&biz=2',
    });
    expect(JSON.stringify(entry)).toContain('{"id":10,');
  });

  it('say current_flow "finished" once the root is FINISHED or REVOKED, with the root\'s finish time', () => {
    const c = withProjects(clockedEngine());
    const e = c.engine;
    e.createTask({ id: '10', project_id: '1', name: 'done', pipeline: pipe('r') });
    e.createTask({ id: '11', project_id: '1', name: 'revoked', pipeline: pipe('r', leaf('a')) });
    e.createTask({ id: '12', project_id: '1', name: 'failed', pipeline: pipe('r') });
    for (const id of ['10', '11', '12']) e.start(id, 'r');
    c.tick(61_000);
    e.finish('10', 'r');
    e.revoke('11', 'r');
    e.fail('12', 'r');
    const data = e.getTasksStatus({ bk_biz_id: '2', task_id_list: '10,11,12' }).data!;
    expect(data.map((t) => [t.id, t.current_flow, t.finish_time])).toEqual([
      [10, 'finished', '2020-08-17 20:14:54 +0800'],
      [11, 'finished', '2020-08-17 20:14:54 +0800'],
      [12, 'execute_task', '2020-08-17 20:14:54 +0800'],
    ]);
  });

  it('refuse a taskUrl template with an unknown placeholder when the engine is made', () => {
    expect(() => createEngine({ taskUrl: 'https://x/{task}' })).toThrow(
      'invalid taskUrl: {task} is not a placeholder (known: {task_id}, {project_id}, {bk_biz_id})',
    );
  });
});

describe('get_task_status with_failed_node_info and with_auto_retry_status', () => {
  /** r ⊃ a (retry policy 2), s ⊃ (s1 plain, s2 retry policy 1): a, s1 and s2 fail; s fails itself too. */
  function failedTask() {
    const time = new ManualClock(T0);
    const e = createEngine({
      clock: time.now,
      timers: time,
      newVersion: (() => {
        let n = 0;
        return () => version(++n);
      })(),
    });
    e.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
    e.createTask({
      id: '10',
      project_id: '1',
      name: 'ten',
      pipeline: pipe('r', retrying('a', 2), sub('s', leaf('s1'), retrying('s2', 1)), leaf('b')),
    });
    for (const n of ['r', 'a', 's', 's1', 's2', 'b']) e.start('10', n);
    for (const n of ['a', 's1', 's2']) e.fail('10', n, { ex_data: `${n} broke` });
    e.finish('10', 'b');
    return { e, time };
  }

  it("answers bk-sops' failed_node_info and auto_retry_status after ex_data, in that order", () => {
    const { e } = failedTask();
    const data = e.getTaskStatus({
      bk_biz_id: '2',
      task_id: '10',
      with_ex_data: 'True',
      with_failed_node_info: 'True',
      with_auto_retry_status: 'True',
    }).data!;
    expect(Object.keys(data).slice(-4)).toEqual(['finish_time', 'ex_data', 'failed_node_info', 'auto_retry_status']);
    expect(JSON.stringify(data.failed_node_info)).toBe(
      JSON.stringify({
        a: { node_id: 'a', auto_retry_times: 0, max_auto_retry_times: 2 },
        s: {},
        s1: {},
        s2: { node_id: 's2', auto_retry_times: 0, max_auto_retry_times: 1 },
      }),
    );
    expect(data.auto_retry_status).toStrictEqual({ exist_auto_retry_nodes: true, auto_retry_nodes: ['a', 's2'] });
  });

  it("counts the engine's retries, and lists a node no more once its retries are used up", () => {
    const { e, time } = failedTask();
    time.advance(5_000); // both retries fall due
    e.start('10', 's2');
    e.fail('10', 's2', { ex_data: 'again' });
    const data = e.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_failed_node_info: 1, with_auto_retry_status: 1 }).data!;
    expect(JSON.stringify(data.failed_node_info)).toBe(
      JSON.stringify({ s: {}, s1: {}, s2: { node_id: 's2', auto_retry_times: 1, max_auto_retry_times: 1 } }),
    );
    expect(data.auto_retry_status).toStrictEqual({ exist_auto_retry_nodes: false, auto_retry_nodes: [] });
    expect(e.snapshot().getNode('10', 'a')).toMatchObject({ state: 'READY', retry: 1, auto_retry_times: 1 });
  });

  it('answers an empty map and no waiting nodes when nothing failed, and nothing extra unless asked', () => {
    const { e } = failedTask();
    for (const n of ['a', 's1', 's2']) e.skip('10', n);
    const data = e.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_failed_node_info: true, with_auto_retry_status: true }).data!;
    expect(JSON.stringify(data.failed_node_info)).toBe('{}');
    expect(data.auto_retry_status).toStrictEqual({ exist_auto_retry_nodes: false, auto_retry_nodes: [] });
    const plain = e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data!;
    expect('failed_node_info' in plain || 'auto_retry_status' in plain).toBe(false);
  });
});
