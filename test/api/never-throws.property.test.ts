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
  withBoxedValues: true, withMap: true, withSet: true, withObjectString: true, withNullPrototype: true,
  withTypedArray: true, withSparseArray: true, withDate: true, withBigInt: true, maxDepth: 3,
});
/** Each field is plausible, or a plausible-looking wrong type, or anything at all. */
const field = (...good: unknown[]) => fc.oneof(fc.constantFrom(...good), fc.constantFrom(undefined, null, '', 0, -1, 'x', true, [], {}), hostile);
const shaped = fc.record({
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
}, { requiredKeys: [] });

function engine() {
  const c = withProjects(clockedEngine());
  c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a'), sub('s', leaf('s1')), leaf('constructor')) });
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

describe('any request', () => {
  it('is answered with an envelope, never a throw, never 3599999', () => {
    const c = engine();
    fc.assert(fc.property(fc.constantFrom(...METHODS), fc.oneof(hostile, shaped), (method, request) => {
      c.tick(777);
      let env: Envelope<unknown> | undefined;
      expect(() => { env = c.engine[method](request); }).not.toThrow();
      checkEnvelope(env!);
      if (env!.code === 0) expect(() => JSON.stringify(env)).not.toThrow();
    }), { numRuns: runs('apiNeverThrows') });
    expect(c.unexpected).toEqual([]);
  });

  it('a context that is not an object counts as none', () => {
    const c = engine();
    for (const ctx of [null, 5, 'ctx', undefined]) {
      checkEnvelope(c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, ctx as never));
    }
  });
});
