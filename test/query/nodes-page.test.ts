/**
 * The bounds of one get_task_nodes page (src/query/overview.ts taskNodesPage), at small limits so
 * that each is met exactly: a page ends before the node that would pass a bound, and holds one
 * node at least.
 */
import { describe, expect, it } from 'vitest';
import { numericId, taskNodesPage, type PageLimits } from '../../src/query/overview.js';
import { T0, clockedEngine, leaf, pipe, withProjects } from '../api/helpers.js';

const LOOSE: PageLimits = { nodes: 100, attemptsPerNode: 100, attempts: 1_000_000, exDataChars: 1_000_000 };

/** Task 10: root r, leaves a, b, c, each with two ended attempts and now FAILED with ex_data "xx". */
function failedTwice(options = {}) {
  const c = withProjects(clockedEngine(T0, options));
  const e = c.engine;
  e.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a'), leaf('b'), leaf('c')) });
  e.start('10', 'r');
  for (const id of ['a', 'b', 'c']) {
    e.start('10', id);
    for (let k = 0; k < 2; k++) {
      e.fail('10', id, { ex_data: 'xx' });
      e.retry('10', id);
      e.start('10', id);
    }
    e.fail('10', id, { ex_data: 'xx' });
  }
  const page = (offset: number, limits: Partial<PageLimits>) => {
    const p = taskNodesPage(e.snapshot().getTask('10')!, offset, { ...LOOSE, ...limits }, T0, 0);
    return { ids: p.nodes.map((n) => n.id), next: p.next_offset, ended: p.nodes.map((n) => n.attempts_ended) };
  };
  return { e, page };
}

describe('a get_task_nodes page', () => {
  it('holds nodes while their ended attempts reach the bound, and ends before the one that passes it', () => {
    const { page } = failedTwice();
    expect(page(0, {})).toEqual({ ids: ['r', 'a', 'b', 'c'], next: null, ended: [0, 2, 2, 2] });
    // r 0, a 2, b 4 (at the bound: taken), c would make 6
    expect(page(0, { attempts: 4 })).toEqual({ ids: ['r', 'a', 'b'], next: 3, ended: [0, 2, 2] });
    expect(page(0, { attempts: 3 })).toEqual({ ids: ['r', 'a'], next: 2, ended: [0, 2] });
  });

  it('holds characters of error data up to the bound, and ends before the node that passes it', () => {
    const { page } = failedTwice();
    // each failed leaf carries "xx": 4 characters of JSON
    expect(page(0, { exDataChars: 8 }).ids).toEqual(['r', 'a', 'b']);
    expect(page(0, { exDataChars: 7 }).ids).toEqual(['r', 'a']);
  });

  it('holds one node at least, whatever it carries: a page never comes back empty', () => {
    const { page } = failedTwice();
    expect(page(1, { attempts: 1 })).toEqual({ ids: ['a'], next: 2, ended: [2] });
    expect(page(1, { exDataChars: 1 })).toEqual({ ids: ['a'], next: 2, ended: [2] });
  });

  it("counts the attempts a node has ended, with those dropped past the store's cap", () => {
    const { page } = failedTwice({ limits: { maxNodeHistories: 1 } });
    const a = page(1, { nodes: 1 });
    expect(a).toEqual({ ids: ['a'], next: 2, ended: [2] });
  });
});

describe('numericId', () => {
  it('answers a number only when the number is written back as the same id', () => {
    expect(numericId('42')).toBe(42);
    expect(numericId('9007199254740991')).toBe(9007199254740991);
    for (const id of ['007', '1e3', '4.0', ' 5', '9007199254740993', 'alpha', '']) expect(numericId(id)).toBe(id);
  });
});
