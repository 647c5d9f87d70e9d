/** Request validation (SPEC §3.1) and the error codes of §3.5, through the engine's five methods. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/index.js';
import type { Engine, Envelope } from '../../src/index.js';
import { CTX, clockedEngine, pipe, twoProjectTasks, withProjects } from './helpers.js';

// A fresh engine per test, made in beforeEach: code that runs while a describe block is
// collected belongs to no test, and mutation runs would count what it reaches as static.
const setup = twoProjectTasks;

/** code and message, the parts a client reads on a refusal */
const refusal = (env: Envelope<unknown>) => [env.code, env.message];

describe('get_task_status request fields', () => {
  let e: Engine;
  beforeEach(() => ({ e } = setup()));
  const ask = (req: unknown) => e.getTaskStatus(req, CTX);

  it.each([
    [{ task_id: '10' }, 'invalid bk_biz_id: is required'],
    [{ bk_biz_id: null, task_id: '10' }, 'invalid bk_biz_id: is required'],
    [{ bk_biz_id: '', task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: 'abc', task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: -2, task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: 2.5, task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: 2 ** 53, task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: true, task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: ['2'], task_id: '10' }, 'invalid bk_biz_id: must be a string of 1..32 digits'],
    [{ bk_biz_id: '2' }, 'invalid task_id: is required'],
    [
      { bk_biz_id: '2', task_id: '1'.repeat(33) },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: '9007199254740992' },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: 2 ** 53 },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: 0 },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: '0' },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: 10.5 },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: '1e3' },
      'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
    ],
    [
      { bk_biz_id: '2', task_id: '10', subprocess_id: 'no spaces' },
      'invalid subprocess_id: must be a node id: 1..64 characters of [A-Za-z0-9_-]',
    ],
    [
      { bk_biz_id: '2', task_id: '10', subprocess_id: 'x'.repeat(65) },
      'invalid subprocess_id: must be a node id: 1..64 characters of [A-Za-z0-9_-]',
    ],
    [{ bk_biz_id: '2', task_id: '10', subprocess_id: 7 }, 'invalid subprocess_id: must be a node id: 1..64 characters of [A-Za-z0-9_-]'],
    [{ bk_biz_id: '2', task_id: '10', with_ex_data: 'yes' }, 'invalid with_ex_data: must be true or false (or 1 or 0), in any letter case'],
    [{ bk_biz_id: '2', task_id: '10', with_ex_data: 2 }, 'invalid with_ex_data: must be true or false (or 1 or 0), in any letter case'],
    [
      { bk_biz_id: '2', task_id: '10', with_ex_data: ' true' },
      'invalid with_ex_data: must be true or false (or 1 or 0), in any letter case',
    ],
    [
      { bk_biz_id: '2', task_id: '10', with_failed_node_info: 'on' },
      'invalid with_failed_node_info: must be true or false (or 1 or 0), in any letter case',
    ],
    [
      { bk_biz_id: '2', task_id: '10', with_auto_retry_status: [] },
      'invalid with_auto_retry_status: must be true or false (or 1 or 0), in any letter case',
    ],
    [{ bk_biz_id: '2', task_id: '10', scope: 'biz' }, 'invalid scope: must be one of cmdb_biz, project'],
    [{ bk_biz_id: '2', task_id: '10', scope: 'PROJECT' }, 'invalid scope: must be one of cmdb_biz, project'],
    [null, 'invalid request: must be an object'],
    [['2', '10'], 'invalid request: must be an object'],
    ['bk_biz_id=2', 'invalid request: must be an object'],
  ])('%j → 3540000 %s', (req, message) => {
    expect(refusal(ask(req))).toEqual([3540000, message]);
  });

  it('accepts ids as integers, booleans as query-string text, and ignores unknown fields', () => {
    for (const req of [
      { bk_biz_id: 2, task_id: 10 },
      { bk_biz_id: '2', task_id: '10', with_ex_data: 'false', bk_app_code: 'x', bk_token: 't', extra: { deep: [1] } },
      { bk_biz_id: '2', task_id: '10', with_ex_data: '1', scope: 'cmdb_biz' },
      { bk_biz_id: '2', task_id: '10', subprocess_id: '', with_ex_data: '', scope: '' },
      { bk_biz_id: '1', task_id: '10', scope: 'project' },
    ]) {
      const env = ask(req);
      expect(env.code).toBe(0);
      expect(env.data!.id).toBe('r');
    }
  });

  it('reads every boolean parameter as true/false/1/0 in any letter case, or a JSON boolean (Python sends True)', () => {
    const failed = setup().e;
    failed.start('10', 'a');
    failed.fail('10', 'a');
    const shown = (flag: unknown) => 'ex_data' in failed.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data: flag }).data!;
    for (const yes of [true, 1, 'true', 'True', 'TRUE', 'tRuE', '1']) expect(shown(yes), String(yes)).toBe(true);
    for (const no of [false, 0, 'false', 'False', 'FALSE', '0', '', null, undefined]) expect(shown(no), String(no)).toBe(false);
    for (const field of ['include_children_status']) {
      const kids = (flag: unknown) =>
        'children' in e.getTasksStatus({ bk_biz_id: '2', task_id_list: ['10'], [field]: flag }).data![0].status;
      expect([kids('True'), kids('False'), kids(1), kids('0')]).toEqual([true, false, true, false]);
    }
    for (const field of ['with_failed_node_info', 'with_auto_retry_status']) {
      const has = (flag: unknown) => field.replace('with_', '') in ask({ bk_biz_id: '2', task_id: '10', [field]: flag }).data!;
      expect([has('True'), has('FALSE'), has(true), has('0')]).toEqual([true, false, true, false]);
    }
  });

  it('reads a task id as a positive integer up to 2^53-1, given as a number or digits, leading zeros ignored', () => {
    for (const taskId of [10, '10', '010', '0000000000000010'])
      expect(ask({ bk_biz_id: '2', task_id: taskId }).data?.id, String(taskId)).toBe('r');
  });

  it('a task id of 0, negative, fractional, unsafe or not plain digits is refused, naming the rule', () => {
    const rule = 'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits';
    for (const task_id of [0, '0', -1, 1.5, 2 ** 53, Number.NaN, '1e3', ' 10', '']) {
      expect(refusal(ask({ bk_biz_id: '2', task_id })), String(task_id)).toEqual([3540000, rule]);
    }
    expect(refusal(ask({ bk_biz_id: 0, task_id: '10' }))).toEqual([3540400, 'no project is bound to business 0']);
    const list = e.getTasksStatus({ bk_biz_id: '2', task_id_list: ' 10 ,, 99 ,' });
    expect([list.code, list.message, list.data!.map((t) => t.id)]).toEqual([0, 'task 99 does not exist', [10]]);
  });

  it('reads only own fields: a prototype cannot supply one', () => {
    const req = Object.create({ bk_biz_id: '2', task_id: '10' });
    expect(refusal(ask(req))).toEqual([3540000, 'invalid bk_biz_id: is required']);
  });
});

describe('resolution: 3540400 and 3540100', () => {
  let e: Engine;
  beforeEach(() => ({ e } = setup()));

  it('an unknown business or project is 3540400', () => {
    expect(refusal(e.getTaskStatus({ bk_biz_id: '99', task_id: '10' }))).toEqual([3540400, 'no project is bound to business 99']);
    expect(refusal(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', scope: 'project' }))).toEqual([3540400, 'project 2 does not exist']);
  });

  it('a task of another project is answered exactly as a missing task', () => {
    const other = e.getTaskStatus({ bk_biz_id: '2', task_id: '30' }, CTX);
    const missing = e.getTaskStatus({ bk_biz_id: '2', task_id: '31' }, CTX);
    expect(other).toEqual({
      result: false,
      data: null,
      code: 3540400,
      message: 'task 30 does not exist',
      request_id: 'req',
      trace_id: 'trace',
    });
    expect({ ...missing, message: missing.message.replace('31', '30') }).toEqual(other);
    // …and the same task is there for its own project
    expect(e.getTaskStatus({ bk_biz_id: '4', task_id: '30' }).code).toBe(0);
  });

  it('an unknown node is 3540400, for get_task_status and get_task_node_detail', () => {
    expect(refusal(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', subprocess_id: 'zz' }))).toEqual([
      3540400,
      'node zz does not exist in task 10',
    ]);
    expect(refusal(e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'zz' }))).toEqual([
      3540400,
      'node zz does not exist in task 10',
    ]);
    // a node of another task of the same definition does not leak through either
    expect(refusal(e.getTaskStatus({ bk_biz_id: '2', task_id: '30', subprocess_id: 'a' }))).toEqual([3540400, 'task 30 does not exist']);
  });

  it('a project the caller may not see is 3540100, for every method', () => {
    const ctx = { ...CTX, canSee: (p: { id: string }) => p.id === '3' };
    const scoped = { bk_biz_id: '2', task_id: '10' };
    const answers = [
      e.getTaskStatus(scoped, ctx),
      e.getTasksStatus({ bk_biz_id: '2', task_id_list: ['10'] }, ctx),
      e.getTaskNodeDetail({ ...scoped, node_id: 'a' }, ctx),
      e.operateTask({ ...scoped, action: 'pause' }, ctx),
      e.operateNode({ ...scoped, node_id: 'a', action: 'pause' }, ctx),
    ];
    for (const env of answers) expect(refusal(env)).toEqual([3540100, 'you may not see the project of business 2']);
    expect(e.snapshot().getNode('10', 'r')!.state).toBe('RUNNING');
    expect(e.getTaskStatus({ bk_biz_id: '4', task_id: '30' }, ctx).code).toBe(0);
    expect(e.getTaskStatus({ bk_biz_id: '3', task_id: '30', scope: 'project' }, { canSee: () => false }).message).toBe(
      'you may not see the project of id 3',
    );
  });

  it('canSee must answer true: any other answer hides the project', () => {
    for (const answer of [1, 'yes', {}, undefined, null]) {
      const env = e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, { canSee: () => answer as never });
      expect(refusal(env), String(answer)).toEqual([3540100, 'you may not see the project of business 2']);
    }
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, { canSee: () => true }).code).toBe(0);
  });

  it('a project that does not exist is 3540400 even to a caller who may see nothing', () => {
    expect(e.getTaskStatus({ bk_biz_id: '99', task_id: '10' }, { canSee: () => false }).code).toBe(3540400);
  });
});

describe('the envelope (SPEC §3.5)', () => {
  let e: Engine;
  beforeEach(() => ({ e } = setup()));

  it('carries the context ids, or new 32-hex ids for every request', () => {
    const a = e.getTaskStatus({ bk_biz_id: '2', task_id: '10' });
    const b = e.getTaskStatus({ bk_biz_id: '2', task_id: 'x' });
    for (const env of [a, b]) {
      expect(env.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(env.trace_id).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(a.request_id).not.toBe(b.request_id);
    expect(Object.keys(b)).toEqual(['result', 'data', 'code', 'message', 'request_id', 'trace_id']);
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: 'x' }, CTX)).toEqual({
      result: false,
      data: null,
      code: 3540000,
      message: 'invalid task_id: must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits',
      request_id: 'req',
      trace_id: 'trace',
    });
  });

  it('never throws: a canSee that throws is 3599999 with no internals, reported to onUnexpectedError', () => {
    const reported: unknown[] = [];
    const c = withProjects(clockedEngine(undefined, { onUnexpectedError: (err) => reported.push(err) }));
    c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r') });
    const boom = () => {
      throw new Error('secret internals');
    };
    const env = c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, { canSee: boom });
    expect(refusal(env)).toEqual([3599999, 'unexpected error']);
    expect(reported).toHaveLength(1);
  });

  it('every method answers 3599999 for an unexpected error, and reports the error itself', () => {
    const reported: unknown[] = [];
    const c = withProjects(clockedEngine(undefined, { onUnexpectedError: (err) => reported.push(err) }));
    c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r') });
    const boom = new Error('secret internals');
    const request = { bk_biz_id: '2', task_id: '10', task_id_list: ['10'], node_id: 'r', action: 'pause' };
    for (const method of ['getTaskStatus', 'getTasksStatus', 'getTaskNodeDetail', 'operateTask', 'operateNode'] as const) {
      const env = c.engine[method](request, {
        ...CTX,
        canSee: () => {
          throw boom;
        },
      });
      expect(env, method).toEqual({
        result: false,
        data: null,
        code: 3599999,
        message: 'unexpected error',
        request_id: 'req',
        trace_id: 'trace',
      });
    }
    expect(reported).toEqual([boom, boom, boom, boom, boom]);
  });

  it('without onUnexpectedError, an unexpected error is written to stderr', () => {
    const written: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      written.push(args);
    });
    try {
      const engine = createEngine({ clock: () => 0 });
      engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
      const boom = new Error('x');
      const env = engine.getTaskStatus(
        { bk_biz_id: '2', task_id: '10' },
        {
          canSee: () => {
            throw boom;
          },
        },
      );
      expect(env.code).toBe(3599999);
      expect(written).toEqual([['pipestate: unexpected error answering a request', boom]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('never throws even when onUnexpectedError throws', () => {
    const c = withProjects(
      clockedEngine(undefined, {
        onUnexpectedError: () => {
          throw new Error('reporter down');
        },
      }),
    );
    const env = c.engine.getTaskStatus(
      { bk_biz_id: '2', task_id: '10' },
      {
        ...CTX,
        canSee: () => {
          throw new Error('x');
        },
      },
    );
    expect(env).toEqual({ result: false, data: null, code: 3599999, message: 'unexpected error', request_id: 'req', trace_id: 'trace' });
  });
});

describe('the request context', () => {
  it('keeps only what is well formed: string ids, a function canSee', () => {
    const { e } = setup();
    const env = e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, { request_id: 5, trace_id: 'abc', canSee: 1 } as never);
    expect([env.code, typeof env.request_id, env.request_id === '5', env.trace_id]).toEqual([0, 'string', false, 'abc']);
    const hidden = e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, { canSee: () => false });
    expect(hidden.code).toBe(3540100);
  });
});
