/** The status pass: no recursion on tree depth, and the per-record memo never serves a stale record. */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition, NodeStatus } from '../../src/index.js';
import { timesOf } from '../../src/query/record-times.js';
import { clockedEngine, leaf, pipe, status, withProjects } from '../api/helpers.js';

describe('the status pass', () => {
  it('answers a pipeline nested 12,000 deep (past what recursion on depth would survive)', () => {
    const DEPTH = 12_000;
    const c = withProjects(clockedEngine(undefined, { limits: { maxDepth: DEPTH + 1 } }));
    let node: NodeDefinition = leaf('bottom');
    for (let d = DEPTH - 1; d >= 1; d--) node = { id: `d${d}`, name: '', kind: 'subprocess', children: [node] };
    c.engine.createTask({ id: '10', project_id: '1', name: 'deep', pipeline: pipe('r', node) });
    c.engine.start('10', 'r');
    for (let d = 1; d < DEPTH; d++) c.engine.start('10', `d${d}`);
    c.engine.pause('10', 'bottom');
    let s: NodeStatus = status(c.engine, '10');
    let depth = 0;
    for (; Object.keys(s.children).length > 0; depth++) {
      expect(s.state).toBe('NODE_SUSPENDED');
      s = Object.values(s.children)[0];
    }
    expect([depth, s.id, s.state]).toEqual([DEPTH, 'bottom', 'SUSPENDED']);
  });

  it('memoizes times per record: the same record hits, a replaced record is recomputed', () => {
    const c = withProjects(clockedEngine());
    c.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a')) });
    c.engine.start('10', 'r');
    c.engine.start('10', 'a');
    const before = c.engine.snapshot();
    const task = before.getTask('10')!;
    const times = timesOf(task);
    const first = times.of(1, before.getNode('10', 'a')!);
    expect(times.of(1, before.getNode('10', 'a')!)).toBe(first);
    c.tick(3000);
    c.engine.finish('10', 'a');
    const after = c.engine.snapshot().getNode('10', 'a')!;
    const second = times.of(1, after);
    expect(second).not.toBe(first);
    expect([first.finish_time, second.finish_time]).toEqual(['', '2020-08-17 20:13:56 +0800']);
    // the older snapshot still answers with its own record
    expect(times.of(1, before.getNode('10', 'a')!).finish_time).toBe('');
  });
});
