/** get_task_summary, get_task_list and get_task_nodes, pinned as exact JSON; their refusals. */
import { describe, expect, it } from 'vitest';
import { CTX, T0, clockedEngine, leaf, pipe, sub, version, withProjects } from './helpers.js';

/** Task 10: r → a, s → (s1, s2), b (error_ignorable); a failed, s running with s1 finished. */
function setup() {
  const c = withProjects(clockedEngine());
  const e = c.engine;
  e.createTask({
    id: '10',
    project_id: '1',
    name: 'deploy web',
    pipeline: pipe('r', leaf('a'), sub('s', leaf('s1'), leaf('s2')), leaf('b', 'b', true)),
  });
  e.start('10', 'r');
  c.tick(1000);
  e.start('10', 'a');
  e.start('10', 's');
  e.start('10', 's1');
  c.tick(2000);
  e.fail('10', 'a', { ex_data: 'a broke' });
  e.finish('10', 's1');
  c.tick(1500);
  return { c, e };
}

const counts = (o: Partial<Record<string, number>>) => ({
  CREATED: 0,
  READY: 0,
  RUNNING: 0,
  SUSPENDED: 0,
  FINISHED: 0,
  FAILED: 0,
  REVOKED: 0,
  ...o,
});

describe('get_task_summary', () => {
  it('answers the counts per state, progress and times of the whole task', () => {
    const { e } = setup();
    const env = e.getTaskSummary({ bk_biz_id: '2', task_id: '10' }, CTX);
    expect(JSON.stringify(env)).toBe(
      JSON.stringify({
        result: true,
        data: {
          id: 'r',
          name: 'deploy web',
          counts: counts({ CREATED: 2, RUNNING: 2, FINISHED: 1, FAILED: 1 }),
          leaves: counts({ CREATED: 2, FINISHED: 1, FAILED: 1 }),
          progress: { finished: 1, total: 4 },
          start_time: '2020-08-17 20:13:53 +0800',
          finish_time: '',
          elapsed_time: 4,
        },
        code: 0,
        message: '',
        request_id: 'req',
        trace_id: 'trace',
      }),
    );
  });

  it('answers a subtree named by subprocess_id, and a leaf', () => {
    const { e } = setup();
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: '10', subprocess_id: 's' }).data).toEqual({
      id: 's',
      name: 's',
      counts: counts({ CREATED: 1, RUNNING: 1, FINISHED: 1 }),
      leaves: counts({ CREATED: 1, FINISHED: 1 }),
      progress: { finished: 1, total: 2 },
      start_time: '2020-08-17 20:13:54 +0800',
      finish_time: '',
      elapsed_time: 4,
    });
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: '10', subprocess_id: 'a' }).data).toMatchObject({
      counts: counts({ FAILED: 1 }),
      progress: { finished: 0, total: 1 },
      finish_time: '2020-08-17 20:13:56 +0800',
      elapsed_time: 2,
    });
  });

  it('refuses like get_task_status: bad fields named, unknown task and node, hidden project', () => {
    const { e } = setup();
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: 'x' })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('task_id'),
    });
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: '11' })).toMatchObject({ code: 3540400 });
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: '10', subprocess_id: 'zz' })).toMatchObject({ code: 3540400 });
    expect(e.getTaskSummary({ bk_biz_id: '2', task_id: '10' }, { canSee: () => false })).toMatchObject({ code: 3540100 });
  });
});

describe('get_task_list', () => {
  function many() {
    const { c, e } = setup();
    e.createTask({ id: '11', project_id: '1', name: 'deploy api', pipeline: pipe('q', leaf('x')) });
    e.createTask({ id: '12', project_id: '1', name: 'backup', pipeline: pipe('q', leaf('x')) });
    e.createTask({ id: '30', project_id: '3', name: 'deploy other project', pipeline: pipe('q', leaf('x')) });
    e.start('12', 'q');
    e.start('12', 'x');
    c.tick(500);
    e.finish('12', 'x');
    e.finish('12', 'q');
    return { c, e };
  }

  it("answers the project's tasks newest first, with count beside data (bk-sops shape)", () => {
    const { e } = many();
    const env = e.getTaskList({ bk_biz_id: '2', limit: 2 }, CTX);
    expect(JSON.stringify(env)).toBe(
      JSON.stringify({
        result: true,
        data: [
          {
            id: 12,
            name: 'backup',
            start_time: '2020-08-17T12:13:57.700Z',
            finish_time: '2020-08-17T12:13:58.200Z',
            is_started: true,
            is_finished: true,
            project_id: 1,
            project_name: 'one',
            bk_biz_id: 2,
            bk_biz_name: 'one',
            state: 'FINISHED',
            elapsed_time: 0,
            progress: { finished: 1, total: 1 },
            counts: counts({ FINISHED: 2 }),
          },
          {
            id: 11,
            name: 'deploy api',
            start_time: null,
            finish_time: null,
            is_started: false,
            is_finished: false,
            project_id: 1,
            project_name: 'one',
            bk_biz_id: 2,
            bk_biz_name: 'one',
            state: 'CREATED',
            elapsed_time: 0,
            progress: { finished: 0, total: 1 },
            counts: counts({ CREATED: 2 }),
          },
        ],
        count: 3,
        code: 0,
        message: '',
        request_id: 'req',
        trace_id: 'trace',
      }),
    );
  });

  it('shows the root as get_task_status does (a running root with a failed node shows FAILED)', () => {
    const { e } = many();
    const [ten] = e.getTaskList({ bk_biz_id: '2', offset: 2 }).data!;
    expect(ten).toMatchObject({ id: 10, state: 'FAILED', counts: counts({ CREATED: 2, RUNNING: 2, FINISHED: 1, FAILED: 1 }) });
    expect(ten.state).toBe(e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data!.state);
    e.pause('10', 's2');
    e.retry('10', 'a');
    expect(e.getTaskList({ bk_biz_id: '2', offset: 2 }).data![0].state).toBe('NODE_SUSPENDED');
  });

  it('filters by keyword, is_started, is_finished and root_state, and pages', () => {
    const { e } = many();
    const ids = (r: Record<string, unknown>) => {
      const env = e.getTaskList({ bk_biz_id: '2', ...r });
      return [env.data!.map((t) => t.id), env.count];
    };
    expect(ids({ keyword: 'deploy' })).toEqual([[11, 10], 2]);
    expect(ids({ is_started: 'true' })).toEqual([[12, 10], 2]);
    expect(ids({ is_started: false })).toEqual([[11], 1]);
    expect(ids({ is_finished: 'true' })).toEqual([[12], 1]);
    expect(ids({ is_finished: '0', is_started: '1' })).toEqual([[10], 1]);
    expect(ids({ root_state: 'RUNNING,CREATED' })).toEqual([[11, 10], 2]);
    expect(ids({ root_state: ['FINISHED'], keyword: 'deploy' })).toEqual([[], 0]);
    expect(ids({ root_state: [] })).toEqual([[12, 11, 10], 3]);
    expect(ids({ limit: 1, offset: 1 })).toEqual([[11], 3]);
    expect(ids({ keyword: 'deploy', limit: 1, offset: 1 })).toEqual([[10], 2]);
    expect(ids({ keyword: 'deploy', limit: 1, without_count: true })).toEqual([[11], -1]);
    expect(ids({ offset: 10 })).toEqual([[], 3]);
    expect(ids({ limit: 0 })).toEqual([[], 3]);
  });

  it('leaves a deleted task out, and lists a task registered again under its id once', () => {
    const { e } = many();
    e.deleteTask('12');
    expect([e.getTaskList({ bk_biz_id: '2' }).data!.map((t) => t.id), e.getTaskList({ bk_biz_id: '2', is_finished: true }).count]).toEqual([
      [11, 10],
      0,
    ]);
    e.createTask({ id: '12', project_id: '1', name: 'backup again', pipeline: pipe('q', leaf('x')) });
    expect(e.getTaskList({ bk_biz_id: '2' }).data!.map((t) => [t.id, t.name])).toEqual([
      [12, 'backup again'],
      [11, 'deploy api'],
      [10, 'deploy web'],
    ]);
  });

  it('writes times in expected_timezone, as bk-sops does', () => {
    const { e } = many();
    expect(e.getTaskList({ bk_biz_id: '2', limit: 1, expected_timezone: 'america/new_york' }).data![0]).toMatchObject({
      start_time: '2020-08-17 08:13:57 -0400',
      finish_time: '2020-08-17 08:13:58 -0400',
    });
  });

  it('a project bound to no business (listed with scope=project) answers bk_biz_id and bk_biz_name null', () => {
    const e = clockedEngine().engine;
    e.createProject({ id: '7', name: 'loose' });
    e.createTask({ id: '70', project_id: '7', name: 't', pipeline: pipe('r', leaf('a')) });
    const env = e.getTaskList({ bk_biz_id: '7', scope: 'project' }, CTX);
    expect(env.data!.map((t) => [t.project_id, t.project_name, t.bk_biz_id, t.bk_biz_name])).toEqual([[7, 'loose', null, null]]);
  });

  it('caps a page at 200 tasks and answers a project without tasks', () => {
    const c = withProjects(clockedEngine());
    for (let i = 0; i < 205; i++) c.engine.createTask({ id: String(100 + i), project_id: '1', name: `t${i}`, pipeline: pipe('r') });
    const env = c.engine.getTaskList({ bk_biz_id: '2', limit: 1000 });
    expect([env.data!.length, env.count, env.data![0].id, env.data![199].id]).toEqual([200, 205, 304, 105]);
    expect(c.engine.getTaskList({ bk_biz_id: '4' })).toMatchObject({ result: true, data: [], count: 0 });
  });

  it('refuses bad filters, naming the field', () => {
    const { e } = many();
    expect(e.getTaskList({ bk_biz_id: '2', root_state: 'DONE' })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('root_state'),
    });
    expect(e.getTaskList({ bk_biz_id: '2', limit: -1 })).toMatchObject({ code: 3540000, message: expect.stringContaining('limit') });
    expect(e.getTaskList({ bk_biz_id: '2', offset: '1.5' })).toMatchObject({ code: 3540000, message: expect.stringContaining('offset') });
    expect(e.getTaskList({ bk_biz_id: '2', is_started: 'yes' })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('is_started'),
    });
    expect(e.getTaskList({ bk_biz_id: '2', expected_timezone: 'Mars/Base' })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('expected_timezone'),
    });
    expect(e.getTaskList({ bk_biz_id: '2', keyword: 'k'.repeat(201) })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('keyword'),
    });
    expect(e.getTaskList({ bk_biz_id: '9' })).toMatchObject({ code: 3540400 });
    expect(e.getTaskList({ bk_biz_id: '2' }, { canSee: () => false })).toMatchObject({ code: 3540100 });
  });
});

describe('get_task_nodes', () => {
  it('answers definitions and stored records in preorder, with ended attempts', () => {
    const { c, e } = setup();
    e.retry('10', 'a');
    c.tick(500);
    e.start('10', 'a');
    const env = e.getTaskNodes({ bk_biz_id: '2', task_id: '10', offset: 0, limit: 3 }, CTX);
    expect(JSON.stringify(env)).toBe(
      JSON.stringify({
        result: true,
        data: {
          task_id: '10',
          name: 'deploy web',
          created_at: '2020-08-17T12:13:53.200Z',
          now: '2020-08-17T12:13:58.200Z',
          cursor: 9,
          total: 6,
          offset: 0,
          next_offset: 3,
          nodes: [
            {
              id: 'r',
              name: 'r',
              kind: 'pipeline',
              parent: -1,
              error_ignorable: false,
              state: 'RUNNING',
              version: version(1),
              loop: 1,
              retry: 0,
              skip: false,
              error_ignored: false,
              started_at: '2020-08-17T12:13:53.200Z',
              finished_at: null,
              ex_data: null,
              attempts: [],
              attempts_ended: 0,
            },
            {
              id: 'a',
              name: 'a',
              kind: 'activity',
              parent: 0,
              error_ignorable: false,
              state: 'RUNNING',
              version: version(5),
              loop: 1,
              retry: 1,
              skip: false,
              error_ignored: false,
              started_at: '2020-08-17T12:13:58.200Z',
              finished_at: null,
              ex_data: null,
              attempts: [
                {
                  state: 'FAILED',
                  loop: 1,
                  retry: 0,
                  skip: false,
                  error_ignored: false,
                  started_at: '2020-08-17T12:13:54.200Z',
                  finished_at: '2020-08-17T12:13:56.200Z',
                },
              ],
              attempts_ended: 1,
            },
            {
              id: 's',
              name: 's',
              kind: 'subprocess',
              parent: 0,
              error_ignorable: false,
              state: 'RUNNING',
              version: version(3),
              loop: 1,
              retry: 0,
              skip: false,
              error_ignored: false,
              started_at: '2020-08-17T12:13:54.200Z',
              finished_at: null,
              ex_data: null,
              attempts: [],
              attempts_ended: 0,
            },
          ],
        },
        code: 0,
        message: '',
        request_id: 'req',
        trace_id: 'trace',
      }),
    );
    const rest = e.getTaskNodes({ bk_biz_id: '2', task_id: '10', offset: 3 }).data!;
    expect([rest.offset, rest.next_offset, rest.nodes.map((n) => [n.id, n.parent, n.error_ignorable])]).toEqual([
      3,
      null,
      [
        ['s1', 2, false],
        ['s2', 2, false],
        ['b', 0, true],
      ],
    ]);
  });

  it('keeps the newest 100 ended attempts of a node and says how many it has had', () => {
    const { e } = setup();
    for (let k = 0; k < 105; k++) {
      e.retry('10', 'a');
      e.start('10', 'a');
      e.fail('10', 'a');
    }
    const a = e.getTaskNodes({ bk_biz_id: '2', task_id: '10', offset: 1, limit: 1 }).data!.nodes[0];
    expect([a.attempts.length, a.attempts_ended, a.attempts[0].retry, a.attempts[99].retry]).toEqual([100, 105, 5, 104]);
  });

  it('ends a page early rather than carry more than 4 Mi characters of error data', () => {
    const e = withProjects(
      clockedEngine(T0, { limits: { maxNodeExDataBytes: 8 << 20, historiesMaxLimit: 10, historiesDefaultLimit: 10 } }),
    ).engine;
    const big = 'x'.repeat(3 << 20);
    e.createTask({ id: '20', project_id: '1', name: 'loud', pipeline: pipe('r', leaf('a'), leaf('b'), leaf('c')) });
    e.start('20', 'r');
    for (const id of ['a', 'b']) {
      e.start('20', id);
      e.fail('20', id, { ex_data: big });
    }
    const first = e.getTaskNodes({ bk_biz_id: '2', task_id: '20' }).data!;
    expect([first.nodes.map((n) => n.id), first.next_offset]).toEqual([['r', 'a'], 2]);
    const second = e.getTaskNodes({ bk_biz_id: '2', task_id: '20', offset: 2 }).data!;
    expect([second.nodes.map((n) => n.id), second.next_offset]).toEqual([['b', 'c'], null]);
  });

  it('refuses a bad page, naming the field', () => {
    const { e } = setup();
    expect(e.getTaskNodes({ bk_biz_id: '2', task_id: '10', limit: 0 })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('limit'),
    });
    expect(e.getTaskNodes({ bk_biz_id: '2', task_id: '10', offset: 7 })).toMatchObject({
      code: 3540000,
      message: expect.stringContaining('offset'),
    });
    expect(e.getTaskNodes({ bk_biz_id: '2', task_id: '10', offset: 6 }).data).toMatchObject({ nodes: [], next_offset: null });
    expect(e.getTaskNodes({ bk_biz_id: '2', task_id: '10', limit: 1e9 }).data!.nodes).toHaveLength(6);
  });
});
