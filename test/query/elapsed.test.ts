/** elapsed_time: whole seconds, rounded half to even, from the clock while under way (SPEC §3.2). */
import { describe, expect, it } from 'vitest';
import { elapsedSeconds, roundHalfEven } from '../../src/query/index.js';
import { CTX, T0, clockedEngine, leaf, pipe, status, withProjects } from '../api/helpers.js';

describe('roundHalfEven', () => {
  it.each([
    [0, 0],
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [2.499, 2],
    [2.501, 3],
    [0.499, 0],
    [55035.5, 55036],
    [55034.5, 55034],
  ])('%d → %d', (x, y) => {
    expect(roundHalfEven(x)).toBe(y);
  });
});

function oneLeaf() {
  const c = withProjects(clockedEngine());
  c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a')) });
  c.engine.start('10', 'r');
  const a = () => status(c.engine, '10', { subprocess_id: 'a' });
  return { c, e: c.engine, a };
}

describe('elapsed_time', () => {
  it.each([
    [2500, 2],
    [1500, 2],
    [500, 0],
    [499, 0],
    [501, 1],
    [3500, 4],
  ])('an attempt of %d ms shows %d s', (ms, s) => {
    const { c, e, a } = oneLeaf();
    e.start('10', 'a');
    c.tick(ms);
    e.finish('10', 'a');
    c.tick(10_000_000);
    expect(a().elapsed_time).toBe(s);
  });

  it('grows with the clock while the node runs', () => {
    const { c, e, a } = oneLeaf();
    e.start('10', 'a');
    for (const [tick, s] of [
      [10_400, 10],
      [100, 10],
      [1000, 12],
      [0, 12],
    ] as const) {
      c.tick(tick);
      expect(a().elapsed_time).toBe(s);
    }
  });

  it('stops growing when the task is revoked', () => {
    const { c, e } = oneLeaf();
    e.start('10', 'a');
    c.tick(5000);
    e.revoke('10', 'r');
    c.tick(100_000);
    const s = status(e, '10');
    expect([s.elapsed_time, s.children.a.elapsed_time]).toEqual([5, 5]);
    expect(s.children.a.state).toBe('REVOKED');
  });

  it('restarts from the new start after a retry; the ended attempt keeps its own', () => {
    const { c, e, a } = oneLeaf();
    e.start('10', 'a');
    c.tick(7000);
    e.fail('10', 'a', { ex_data: 'first' });
    c.tick(60_000);
    e.retry('10', 'a');
    expect([a().elapsed_time, a().start_time, a().finish_time]).toEqual([0, '', '']);
    c.tick(60_000);
    e.start('10', 'a');
    c.tick(3000);
    expect(a().elapsed_time).toBe(3);
    const detail = e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'a' }, CTX).data!;
    expect(detail.histories.map((h) => [h.elapsed_time, h.ex_data])).toEqual([[7, 'first']]);
  });

  it('is 0 before the first start and 0 if the clock reads earlier than the start', () => {
    const { c, e, a } = oneLeaf();
    expect(a().elapsed_time).toBe(0);
    e.start('10', 'a');
    c.at(T0 - 5000);
    expect(a().elapsed_time).toBe(0);
  });
});

describe('elapsedSeconds', () => {
  it('is 0 for a node that never started, whatever the time now', () => {
    expect(elapsedSeconds(null, 5_000)).toBe(0);
    expect(elapsedSeconds(null, T0)).toBe(0);
  });

  it('is 0 when the clock went backwards, and the rounded seconds otherwise', () => {
    expect(elapsedSeconds(10_000, 9_000)).toBe(0);
    expect(elapsedSeconds(10_000, 10_000)).toBe(0);
    expect(elapsedSeconds(10_000, 12_500)).toBe(2);
    expect(elapsedSeconds(10_000, 13_500)).toBe(4);
  });
});
