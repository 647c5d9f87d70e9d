/**
 * get_task_node_detail is bounded (issue 8): histories come in pages counted from the newest
 * (`histories_limit`, default 100, at most 1,000; `histories_offset`), the answer ends with the
 * number kept (`histories_total`) and dropped (`histories_dropped`), and a node retried past its
 * cap of 1,000 with the largest ex_data allowed still answers within what JSON.stringify writes.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/index.js';
import { HISTORY_ENTRY_TEXT_BYTES, HISTORIES_ANSWER_BUDGET } from '../../src/store/index.js';
import { CTX, clockedEngine, leaf, pipe, withProjects } from './helpers.js';

/** Task 10 (business 2) with leaf a failed and retried `n` times, the k-th failure carrying ex_data `data(k)`. */
function retried(n: number, data: (k: number) => string, options: EngineOptions = {}) {
  const c = withProjects(clockedEngine(undefined, options));
  const e = c.engine;
  e.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a')) });
  e.start('10', 'r');
  for (let k = 1; k <= n; k++) {
    e.start('10', 'a');
    c.tick(1000);
    e.fail('10', 'a', { ex_data: data(k) });
    e.retry('10', 'a');
  }
  return e;
}

const detail = (e: ReturnType<typeof retried>, extra: Record<string, unknown> = {}) =>
  e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'a', ...extra }, CTX);

const exDataOf = (env: ReturnType<typeof detail>): unknown[] => env.data!.histories.map((h) => h.ex_data);

describe('get_task_node_detail histories', () => {
  it('a page is counted from the newest and answered oldest first; the total and the dropped count come last', () => {
    const e = retried(5, (k) => `attempt ${k}`);
    const page = detail(e, { histories_limit: 2 });
    expect(exDataOf(page)).toEqual(['attempt 4', 'attempt 5']);
    expect(Object.keys(page.data!).slice(-3)).toEqual(['histories', 'histories_total', 'histories_dropped']);
    expect([page.data!.histories_total, page.data!.histories_dropped]).toEqual([5, 0]);
    expect(exDataOf(detail(e, { histories_limit: 2, histories_offset: 1 }))).toEqual(['attempt 3', 'attempt 4']);
    expect(exDataOf(detail(e, { histories_limit: 10, histories_offset: 3 }))).toEqual(['attempt 1', 'attempt 2']);
    expect(exDataOf(detail(e, { histories_offset: 5 }))).toEqual([]);
    const none = detail(e, { histories_limit: 0 });
    expect([none.data!.histories, none.data!.histories_total]).toEqual([[], 5]);
    // as a query string sends them
    expect(exDataOf(detail(e, { histories_limit: '1', histories_offset: '4' }))).toEqual(['attempt 1']);
    expect(exDataOf(detail(e, { histories_limit: '', histories_offset: '' }))).toHaveLength(5);
  });

  it('by default answers the newest 100; asks for more than 1,000 are refused', () => {
    const e = retried(150, (k) => `attempt ${k}`);
    const page = detail(e);
    expect(page.data!.histories).toHaveLength(100);
    expect([page.data!.histories[0].ex_data, page.data!.histories[99].ex_data]).toEqual(['attempt 51', 'attempt 150']);
    expect(page.data!.histories_total).toBe(150);
    expect(detail(e, { histories_limit: 1_000 }).data!.histories).toHaveLength(150);
    expect(detail(e, { histories_limit: 1_001 })).toMatchObject({
      result: false,
      code: 3540000,
      message: 'invalid histories_limit: must be at most 1000',
    });
  });

  it('refuses counts that are not non-negative integers, naming the field', () => {
    const e = retried(1, () => 'x');
    for (const bad of [-1, 1.5, '-1', 'x', '1e3', true, [1]]) {
      expect(detail(e, { histories_limit: bad })).toMatchObject({
        code: 3540000,
        message: 'invalid histories_limit: must be a non-negative integer',
      });
      expect(detail(e, { histories_offset: bad })).toMatchObject({
        code: 3540000,
        message: 'invalid histories_offset: must be a non-negative integer',
      });
    }
  });

  it('the default and the maximum follow the engine limits', () => {
    const e = retried(6, (k) => `attempt ${k}`, { limits: { historiesDefaultLimit: 2, historiesMaxLimit: 4 } });
    expect(exDataOf(detail(e))).toEqual(['attempt 5', 'attempt 6']);
    expect(detail(e, { histories_limit: 5 }).message).toBe('invalid histories_limit: must be at most 4');
  });

  it('a node retried past its cap keeps the newest 1,000 attempts, counts the dropped ones, and its largest answer serializes', () => {
    // the largest ex_data a node may hold: 64 KiB of JSON text, the attempt number in front
    const big = (k: number): string => `${String(k).padStart(6, '0')}${'x'.repeat(65_536 - 2 - 6)}`;
    const e = retried(1_050, big);
    const env = detail(e, { histories_limit: 1_000, with_ex_data: true });
    const d = env.data!;
    expect([d.histories.length, d.histories_total, d.histories_dropped]).toEqual([1_000, 1_000, 50]);
    expect([(d.histories[0].ex_data as string).slice(0, 6), (d.histories[999].ex_data as string).slice(0, 6)]).toEqual([
      '000051',
      '001050',
    ]);
    // the histories stay within the bound computed from the limits, far below what a string may hold
    const text = JSON.stringify(env);
    const historiesText = JSON.stringify(d.histories);
    expect(historiesText.length).toBeLessThanOrEqual(1_000 * (65_536 + HISTORY_ENTRY_TEXT_BYTES));
    expect(1_000 * (65_536 + HISTORY_ENTRY_TEXT_BYTES)).toBeLessThanOrEqual(HISTORIES_ANSWER_BUDGET);
    expect(text.length).toBeLessThan(2 ** 29 - 24);
    expect(JSON.parse(text).data.histories_dropped).toBe(50);
  });

  it('no history entry is longer than HISTORY_ENTRY_TEXT_BYTES plus its ex_data', () => {
    const e = retried(1, () => 'x');
    const entry = detail(e).data!.histories[0];
    const widest = 9_007_199_254_740_991;
    // every field at its widest: the longest state, a version, 16-digit counters, 25-character times
    const worst = Object.fromEntries(
      Object.keys(entry).map((k) => [
        k,
        (
          {
            state: 'SUSPENDED',
            version: 'f'.repeat(32),
            loop: widest,
            retry: widest,
            skip: false,
            error_ignorable: false,
            start_time: '2020-08-17 20:13:54 +0545',
            finish_time: '2020-08-17 20:13:54 +0545',
            elapsed_time: widest,
            ex_data: '',
          } as Record<string, unknown>
        )[k],
      ]),
    );
    expect(Object.keys(worst)).toEqual(Object.keys(entry));
    // the entry, its comma in the array, minus the empty ex_data's two quotes
    expect(JSON.stringify(worst).length + 1 - 2).toBeLessThanOrEqual(HISTORY_ENTRY_TEXT_BYTES);
  });
});
