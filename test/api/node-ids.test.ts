/**
 * Node ids that name Object.prototype's members are ordinary ids (SPEC §1): they appear as own
 * keys of `children` and `ex_data`, survive JSON, and can be asked for. Integer-like ids are
 * ordered first, ascending, as in every JS object (a documented limitation).
 */
import { describe, expect, it } from 'vitest';
import { CTX, clockedEngine, leaf, pipe, sub, withProjects } from './helpers.js';

function setup() {
  const c = withProjects(clockedEngine());
  const e = c.engine;
  e.createTask({
    id: '10',
    project_id: '1',
    name: 'ten',
    pipeline: pipe('__proto__', leaf('constructor'), sub('hasOwnProperty', leaf('toString')), leaf('b'), leaf('10'), leaf('2')),
  });
  for (const id of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'b', '10', '2']) e.start('10', id);
  // JSON.parse makes "__proto__" an own key (an object literal would set the prototype instead)
  e.fail('10', 'constructor', { ex_data: JSON.parse('{"__proto__":"own key"}') });
  e.fail('10', 'toString', { ex_data: 'inner' });
  return e;
}

describe('node ids such as __proto__ and constructor', () => {
  it('appear as own keys of children and ex_data, and round-trip through JSON', () => {
    const e = setup();
    const s = e.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data: true }, CTX).data!;
    expect(s.id).toBe('__proto__');
    expect(Object.keys(s.children)).toEqual(['2', '10', 'constructor', 'hasOwnProperty', 'b']);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(s.children))).toBeNull();
    const hop: string = 'hasOwnProperty'; // TS types IdKeyed with Object's members: index with a string
    expect(Object.keys(s.children[hop].children)).toEqual(['toString']);
    expect(Object.keys(s.ex_data!)).toEqual(['constructor', 'toString']);
    const text = JSON.stringify(s);
    expect(text).toContain('"ex_data":{"constructor":{"__proto__":"own key"},"toString":"inner"}');
    const back = JSON.parse(text);
    expect(Object.keys(back.children)).toEqual(['2', '10', 'constructor', 'hasOwnProperty', 'b']);
    expect(back.children.constructor.state).toBe('FAILED');
  });

  it('can be asked for by subprocess_id and node_id', () => {
    const e = setup();
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', subprocess_id: 'hasOwnProperty' }).data!.state).toBe('FAILED');
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', subprocess_id: '__proto__' }).data!.name).toBe('ten');
    expect(e.getTaskNodeDetail({ bk_biz_id: '2', task_id: '10', node_id: 'constructor' }).data!.state).toBe('FAILED');
    expect(e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'constructor', action: 'retry' }).code).toBe(0);
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', subprocess_id: 'valueOf' }).code).toBe(3540400);
  });
});
