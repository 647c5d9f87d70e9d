/** No request of any shape makes an API method throw, or answer anything but a §3.5 envelope. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/index.js';
import { clockedEngine, leaf, pipe, sub, withProjects } from './helpers.js';
import { runs } from '../fc-runs.js';

const CODES = new Set([0, 3540000, 3540100, 3540400, 3545000]);
const KEYS = ['result', 'data', 'code', 'message', 'request_id', 'trace_id'];
const METHODS = ['getTaskStatus', 'getTasksStatus', 'getTaskNodeDetail', 'operateTask', 'operateNode'] as const;

const hostile = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withTypedArray: true,
  withSparseArray: true,
  withDate: true,
  withBigInt: true,
  maxDepth: 3,
});
/**
 * Each field is plausible (most often: a request gets past the checks only when every field it
 * needs is), or a plausible-looking wrong type, or anything at all.
 */
const field = (...good: unknown[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...good), weight: 4 },
    { arbitrary: fc.constantFrom(undefined, null, '', 0, -1, 'x', true, [], {}), weight: 1 },
    { arbitrary: hostile, weight: 1 },
  );
const shaped = fc.record(
  {
    bk_biz_id: field('2', 2, '1', '4', '99'),
    task_id: field('10', 10, '30', '11'),
    subprocess_id: field(undefined, 's', 'a', 's1', '__proto__'),
    node_id: field('a', 's', 's1', 'r', 'constructor'),
    with_ex_data: field(true, 'false', '1'),
    include_children_status: field(true, '0'),
    task_id_list: field(['10', 30], '10,11', []),
    scope: field(undefined, 'project', 'cmdb_biz'),
    action: field('pause', 'resume', 'revoke', 'retry', 'skip', 'forced_fail', 'callback'),
    version: field(undefined, '0'.repeat(32)),
    ex_data: field(undefined, 'x', { a: 1 }),
    data: field(undefined, 1, [1]),
  },
  // the two ids every method needs: absent, 1 in 2 shaped requests would be refused for them alone
  // (an `undefined` among the wrong values still asks for the refusal)
  { requiredKeys: ['bk_biz_id', 'task_id'] },
);

function engine() {
  const c = withProjects(clockedEngine());
  c.engine.createTask({
    id: '10',
    project_id: '1',
    name: 'ten',
    pipeline: pipe('r', leaf('a'), sub('s', leaf('s1')), leaf('constructor')),
  });
  c.engine.createTask({ id: '30', project_id: '3', name: 'thirty', pipeline: pipe('r', leaf('a')) });
  c.engine.start('10', 'r');
  return c;
}

function checkEnvelope(env: Envelope<unknown>): void {
  expect(Object.keys(env)).toEqual(KEYS);
  expect(CODES.has(env.code)).toBe(true);
  expect(env.result).toBe(env.code === 0);
  expect(typeof env.message).toBe('string');
}

/** Requests every field of which is right for the two tasks of engine(): each must succeed. */
const NODES = ['r', 'a', 's', 's1', 'constructor'];
const flagArb = fc.constantFrom(undefined, true, false, 'true', 'false', '1', '0', '');
/** Task 10 is in project 1, bound to business 2; it is reachable by either scope. */
const whereArb = fc.constantFrom(
  { bk_biz_id: '2' },
  { bk_biz_id: 2 },
  { bk_biz_id: '2', scope: 'cmdb_biz' },
  { bk_biz_id: '1', scope: 'project' },
);
const validRequest = fc.oneof(
  fc.record({
    method: fc.constant('getTaskStatus' as const),
    where: whereArb,
    fields: fc.record({
      task_id: fc.constantFrom('10', 10),
      subprocess_id: fc.constantFrom(undefined, ...NODES),
      with_ex_data: flagArb,
    }),
  }),
  fc.record({
    method: fc.constant('getTasksStatus' as const),
    where: whereArb,
    fields: fc.record({
      task_id_list: fc.constantFrom(['10'], [10, '10'], '10', '10,30,99', []),
      include_children_status: flagArb,
    }),
  }),
  fc.record({
    method: fc.constant('getTaskNodeDetail' as const),
    where: whereArb,
    fields: fc.record({
      task_id: fc.constantFrom('10', 10),
      node_id: fc.constantFrom(...NODES),
      with_ex_data: flagArb,
    }),
  }),
  fc.record({
    method: fc.constant('operateTask' as const),
    where: whereArb,
    fields: fc.record({
      task_id: fc.constantFrom('10', 10),
      action: fc.constantFrom('pause', 'resume', 'revoke'),
    }),
  }),
  fc.record({
    method: fc.constant('operateNode' as const),
    where: whereArb,
    fields: fc.record({
      task_id: fc.constantFrom('10', 10),
      node_id: fc.constantFrom(...NODES),
      action: fc.constantFrom('retry', 'skip', 'pause', 'resume', 'forced_fail', 'callback'),
    }),
  }),
);
const isOperation = (method: (typeof METHODS)[number]): boolean => method === 'operateTask' || method === 'operateNode';

describe('any request', () => {
  it('is answered with an envelope, never a throw, never 3599999', () => {
    const c = engine();
    const codes = new Map<number, number>();
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), fc.oneof(hostile, shaped), (method, request) => {
        c.tick(777);
        let env: Envelope<unknown> | undefined;
        expect(() => {
          env = c.engine[method](request);
        }).not.toThrow();
        checkEnvelope(env!);
        codes.set(env!.code, (codes.get(env!.code) ?? 0) + 1);
        if (env!.code === 0) expect(() => JSON.stringify(env)).not.toThrow();
      }),
      { numRuns: runs('apiNeverThrows') },
    );
    expect(c.unexpected).toEqual([]);
    // the shaped requests reach past the checks: some are answered, some refused for each reason
    for (const code of [0, 3540000, 3540400])
      expect(codes.get(code) ?? 0, `code ${code}: ${JSON.stringify([...codes])}`).toBeGreaterThan(0);
  });

  it('a well-formed request is answered: queries always succeed; commands succeed or the lifecycle refuses them', () => {
    const succeeded = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(validRequest, { minLength: 1, maxLength: 8 }), (requests) => {
        const c = engine();
        for (const { method, where, fields } of requests) {
          c.tick(777);
          const env = c.engine[method]({ ...where, ...fields });
          checkEnvelope(env);
          if (isOperation(method)) {
            expect([0, 3545000], `${method} ${JSON.stringify(fields)}: ${env.message}`).toContain(env.code);
            if (env.code === 3545000) expect(env.message).toMatch(/^cannot [a-z_]+ node [a-z0-9]+ of task 10: state is [A-Z]+, /);
          } else {
            expect(env.code, `${method} ${JSON.stringify(fields)}: ${env.message}`).toBe(0);
          }
          if (env.code === 0) succeeded.set(method, (succeeded.get(method) ?? 0) + 1);
        }
        expect(c.unexpected).toEqual([]);
      }),
      { numRuns: runs('apiWellFormed') },
    );
    for (const method of METHODS) expect(succeeded.get(method) ?? 0, method).toBeGreaterThan(0);
  });

  it('context fields of the wrong type count as absent: ids are made afresh, a canSee that is no function is ignored', () => {
    const c = engine();
    const HEX32 = /^[0-9a-f]{32}$/;
    for (const bad of [5, null, { id: 'x' }, ['t'], true]) {
      for (const method of METHODS) {
        const env = c.engine[method]({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'pause', task_id_list: ['10'] }, {
          request_id: bad,
          trace_id: bad,
          canSee: bad,
        } as never);
        checkEnvelope(env);
        expect(env.request_id, `${method} ${JSON.stringify(bad)}`).toMatch(HEX32);
        expect(env.trace_id, `${method} ${JSON.stringify(bad)}`).toMatch(HEX32);
        expect(env.request_id).not.toBe(env.trace_id);
        expect(env.code, env.message).not.toBe(3540100);
      }
    }
    // well-typed ones are kept, refusals included
    const kept = c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '99' }, { request_id: 'r-1', trace_id: 't-1', canSee: () => true });
    expect([kept.code, kept.request_id, kept.trace_id]).toEqual([3540400, 'r-1', 't-1']);
  });

  it('a context that is not an object counts as none', () => {
    const c = engine();
    for (const ctx of [null, 5, 'ctx', undefined]) {
      const env = c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, ctx as never);
      checkEnvelope(env);
      expect(env.result).toBe(true);
      expect(env.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(env.trace_id).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});
