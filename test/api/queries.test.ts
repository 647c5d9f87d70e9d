/** get_tasks_status and get_task_node_detail (SPEC §4), pinned as exact JSON. */
import { describe, expect, it } from 'vitest';
import { CTX, clockedEngine, leaf, pipe, sub, version, withProjects } from './helpers.js';

function setup() {
  const c = withProjects(clockedEngine());
  const e = c.engine;
  e.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a'), sub('s', leaf('s1'))) });
  e.createTask({ id: '11', project_id: '1', name: 'eleven', pipeline: pipe('q', leaf('b')) });
  e.createTask({ id: '30', project_id: '3', name: 'thirty', pipeline: pipe('r') });
  e.start('10', 'r');
  c.tick(1000);
  e.start('10', 'a');
  c.tick(2000);
  e.fail('10', 'a', { ex_data: 'a broke' });
  return { c, e };
}

const T = '2020-08-17 20:13:53 +0800';
const base = {
  retry: 0,
  loop: 1,
  skip: false,
  error_ignorable: false,
};

describe('get_tasks_status', () => {
  it('answers the tasks found, in request order, each once; the others are named in message', () => {
    const { c, e } = setup();
    c.tick(10_000);
    const env = e.getTasksStatus({ bk_biz_id: '2', task_id_list: ['11', 10, '30', '99', '10'] }, CTX);
    expect(JSON.stringify(env)).toBe(
      JSON.stringify({
        result: true,
        data: [
          {
            id: 11,
            name: 'eleven',
            status: {
              id: 'q',
              state: 'CREATED',
              name: 'eleven',
              retry: 0,
              loop: 0,
              skip: false,
              error_ignorable: false,
              version: '',
              state_refresh_at: '2020-08-17T12:13:53.200Z',
              elapsed_time: 0,
              start_time: '',
              finish_time: '',
            },
            flow_type: 'common',
            current_flow: 'execute_task',
            is_deleted: false,
            create_time: T,
            start_time: '',
            finish_time: '',
            url: '',
          },
          {
            id: 10,
            name: 'ten',
            status: {
              id: 'r',
              state: 'FAILED',
              name: 'ten',
              ...base,
              version: version(1),
              state_refresh_at: '2020-08-17T12:13:53.200Z',
              elapsed_time: 13,
              start_time: T,
              finish_time: '',
            },
            flow_type: 'common',
            current_flow: 'execute_task',
            is_deleted: false,
            create_time: T,
            start_time: T,
            finish_time: '',
            url: '',
          },
        ],
        code: 0,
        message: 'tasks 30, 99 do not exist',
        request_id: 'req',
        trace_id: 'trace',
      }),
    );
  });

  it('includes the children when asked', () => {
    const { e } = setup();
    const env = e.getTasksStatus({ bk_biz_id: '2', task_id_list: '10', include_children_status: 'true' });
    const status = env.data![0].status;
    expect(Object.keys(status)).toContain('children');
    expect(JSON.stringify(status)).toBe(JSON.stringify(e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data));
  });

  it('accepts a comma-separated string, an empty list, and no cap on the count', () => {
    const { e } = setup();
    expect(e.getTasksStatus({ bk_biz_id: '2', task_id_list: ' 11, 10 ,' }).data!.map((t) => t.id)).toEqual([11, 10]);
    expect(e.getTasksStatus({ bk_biz_id: '2', task_id_list: [] })).toMatchObject({ result: true, data: [], message: '' });
    const many = Array.from({ length: 500 }, (_, i) => String(1000 + i));
    for (const id of many) e.createTask({ id, project_id: '1', name: `t${id}`, pipeline: pipe('r') });
    const env = e.getTasksStatus({ bk_biz_id: '2', task_id_list: many });
    expect(env.data!.map((t) => t.id)).toEqual(many.map(Number));
    expect(env.message).toBe('');
  });

  it('names the missing one in the singular', () => {
    const { e } = setup();
    expect(e.getTasksStatus({ bk_biz_id: '2', task_id_list: ['10', '12'] }).message).toBe('task 12 does not exist');
  });

  it('refuses a bad list naming the element', () => {
    const { e } = setup();
    expect(e.getTasksStatus({ bk_biz_id: '2', task_id_list: ['10', 'x'] }).message).toBe(
      'invalid task_id_list[1]: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    );
    expect(e.getTasksStatus({ bk_biz_id: '2' }).message).toBe('invalid task_id_list: is required');
    expect(e.getTasksStatus({ bk_biz_id: '2', task_id_list: { 0: '10' } }).message).toBe(
      'invalid task_id_list: must be a list of task ids',
    );
  });
});

describe('get_task_node_detail', () => {
  it('answers the node and its ended attempts, oldest first', () => {
    const { c, e } = setup();
    c.tick(1000);
    e.retry('10', 'a'); // ends attempt 1 (FAILED)
    c.tick(1000);
    e.start('10', 'a');
    c.tick(1500); // 1.5 s: rounds to 2
    e.finish('10', 'a');
    c.tick(1000);
    e.reenter('10', 'a'); // ends attempt 2 (FINISHED)
    c.tick(4000);
    const env = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'a' }, CTX);
    expect(JSON.stringify(env.data)).toBe(
      JSON.stringify({
        id: 'a',
        state: 'RUNNING',
        name: 'a',
        retry: 1,
        loop: 2,
        skip: false,
        error_ignorable: false,
        version: version(4),
        state_refresh_at: '2020-08-17T12:14:00.700Z',
        elapsed_time: 4,
        children: {},
        start_time: '2020-08-17 20:14:00 +0800',
        finish_time: '',
        histories: [
          {
            state: 'FAILED',
            version: version(2),
            loop: 1,
            retry: 0,
            skip: false,
            error_ignorable: false,
            start_time: '2020-08-17 20:13:54 +0800',
            finish_time: '2020-08-17 20:13:56 +0800',
            elapsed_time: 2,
            ex_data: 'a broke',
          },
          {
            state: 'FINISHED',
            version: version(3),
            loop: 1,
            retry: 1,
            skip: false,
            error_ignorable: false,
            start_time: '2020-08-17 20:13:58 +0800',
            finish_time: '2020-08-17 20:13:59 +0800',
            elapsed_time: 2,
            ex_data: null,
          },
        ],
        histories_total: 2,
        histories_dropped: 0,
      }),
    );
  });

  it('answers a subprocess with its children, and a node that never ran with no histories', () => {
    const { e } = setup();
    const s = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 's' }).data!;
    expect([s.state, s.histories, Object.keys(s.children)]).toEqual(['CREATED', [], []]);
    const root = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'r', with_ex_data: true }).data!;
    expect(Object.keys(root)).toEqual([
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
      'ex_data',
      'histories',
      'histories_total',
      'histories_dropped',
    ]);
    expect([root.name, JSON.stringify(root.ex_data)]).toEqual(['ten', '{"a":"a broke"}']);
  });

  it('a FAILED node carries ex_data only when asked', () => {
    const { e } = setup();
    const keys = [
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
    ];
    for (const flag of [{}, { with_ex_data: false }, { with_ex_data: '0' }, { with_ex_data: '' }]) {
      const detail = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'a', ...flag }).data!;
      expect(detail.state, JSON.stringify(flag)).toBe('FAILED');
      expect(Object.keys(detail), JSON.stringify(flag)).toEqual([...keys, 'histories', 'histories_total', 'histories_dropped']);
    }
    const asked = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'a', with_ex_data: 'true' }).data!;
    expect(Object.keys(asked)).toEqual([...keys, 'ex_data', 'histories', 'histories_total', 'histories_dropped']);
    expect(JSON.stringify(asked.ex_data)).toBe('{"a":"a broke"}');
  });

  it('refuses a missing node_id', () => {
    const { e } = setup();
    expect(e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10' }).message).toBe('invalid node_id: is required');
  });
});
