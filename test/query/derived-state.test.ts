/** SPEC §3.3 derived states and §3.4 ex_data, case by case (issue 3's acceptance list). */
import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/index.js';
import { clockedEngine, leaf, pipe, status, sub, withProjects } from '../api/helpers.js';

/** `id:STATE(child,child)`: a whole answer tree on one line. */
const shape = (s: NodeStatus): string => {
  const kids = Object.values(s.children).map(shape);
  return `${s.id}:${s.state}${kids.length ? `(${kids.join(',')})` : ''}`;
};

/** A task `10`: root r with leaves a, b and subprocess s holding leaves s1, s2. */
function setup() {
  const c = withProjects(clockedEngine());
  c.engine.createTask({
    id: '10',
    project_id: '1',
    name: 'ten',
    pipeline: pipe('r', leaf('a'), leaf('b'), sub('s', leaf('s1'), leaf('s2')), leaf('ig', 'ig', true)),
  });
  const e = c.engine;
  const run = (...ops: [string, string, unknown?][]) => {
    for (const [op, node, ex_data] of ops) {
      c.tick(1000);
      e.apply('10', node, op as 'start', ex_data === undefined ? undefined : { ex_data: ex_data as string });
    }
  };
  return { c, e, run, answer: (extra = {}) => status(e, '10', extra) };
}

describe('derived states (SPEC §3.3)', () => {
  it('a RUNNING root with a FAILED child is shown FAILED', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 'a'], ['fail', 'a', 'boom']);
    expect(shape(answer())).toBe('r:FAILED(a:FAILED)');
  });

  it('a RUNNING root with a SUSPENDED child is shown NODE_SUSPENDED', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['pause', 'a']);
    expect(shape(answer())).toBe('r:NODE_SUSPENDED(a:SUSPENDED)');
  });

  it('NODE_SUSPENDED climbs: a paused leaf in a running subprocess suspends both', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 's'], ['pause', 's2']);
    expect(shape(answer())).toBe('r:NODE_SUSPENDED(s:NODE_SUSPENDED(s2:SUSPENDED))');
  });

  it('FAILED wins over SUSPENDED', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['pause', 'a'], ['start', 'b'], ['fail', 'b']);
    expect(shape(answer())).toBe('r:FAILED(a:SUSPENDED,b:FAILED)');
  });

  it('a paused root stays SUSPENDED with failed children, and then has no ex_data', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 'a'], ['fail', 'a', 'boom'], ['pause', 'r']);
    const s = answer({ with_ex_data: true });
    expect(shape(s)).toBe('r:SUSPENDED(a:FAILED)');
    expect('ex_data' in s).toBe(false);
  });

  it('a failed grandchild makes its subprocess and the root FAILED; ex_data lists only that leaf', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 'a'], ['finish', 'a'], ['start', 's'], ['start', 's1'], ['fail', 's1', { why: 'disk full' }]);
    const s = answer({ with_ex_data: true });
    expect(shape(s)).toBe('r:FAILED(a:FINISHED,s:FAILED(s1:FAILED))');
    expect(JSON.stringify(s.ex_data)).toBe('{"s1":{"why":"disk full"}}');
  });

  it('REVOKED and FINISHED are never rewritten', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 's'], ['start', 's1'], ['fail', 's1'], ['finish', 's']);
    expect(shape(answer())).toBe('r:RUNNING(s:FINISHED(s1:FAILED))');
    run(['start', 'a'], ['fail', 'a'], ['revoke', 'r']);
    const s = answer({ with_ex_data: true });
    expect(shape(s)).toBe('r:REVOKED(a:FAILED,s:FINISHED(s1:FAILED))');
    expect('ex_data' in s).toBe(false);
  });

  it('READY (retried, waiting) and error-ignored failures do not fail the root', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 'a'], ['fail', 'a'], ['retry', 'a'], ['start', 'ig'], ['fail', 'ig', 'ignored']);
    const s = answer({ with_ex_data: true });
    expect(shape(s)).toBe('r:RUNNING(a:READY,ig:FINISHED)');
    expect(s.children.ig.error_ignorable).toBe(true);
    expect(s.children.a.error_ignorable).toBe(false);
    expect('ex_data' in s).toBe(false);
  });
});

describe('ex_data (SPEC §3.4)', () => {
  it('descends only through nodes shown FAILED', () => {
    const c = withProjects(clockedEngine());
    c.engine.createTask({
      id: '11',
      project_id: '1',
      name: 'eleven',
      pipeline: pipe('r', sub('x', leaf('x1')), sub('y', leaf('y1'), leaf('y2'))),
    });
    const e = c.engine;
    e.start('11', 'r');
    e.start('11', 'x');
    e.start('11', 'x1');
    e.fail('11', 'x1', { ex_data: 'x1 broke' });
    e.start('11', 'y');
    e.start('11', 'y1');
    e.fail('11', 'y1', { ex_data: 'y1 broke' });
    e.pause('11', 'y');
    const s = status(e, '11', { with_ex_data: true });
    expect(shape(s)).toBe('r:FAILED(x:FAILED(x1:FAILED),y:SUSPENDED(y1:FAILED))');
    expect(JSON.stringify(s.ex_data)).toBe('{"x1":"x1 broke"}');
  });

  it('lists a subprocess failed by itself, and maps a failure without data to null', () => {
    const c = withProjects(clockedEngine());
    c.engine.createTask({ id: '12', project_id: '1', name: 'twelve', pipeline: pipe('r', sub('x', leaf('x1')), leaf('z')) });
    const e = c.engine;
    e.start('12', 'r');
    e.start('12', 'x');
    e.start('12', 'x1');
    e.finish('12', 'x1');
    e.fail('12', 'x', { ex_data: ['sub', 'failed'] });
    e.start('12', 'z');
    e.fail('12', 'z');
    const s = status(e, '12', { with_ex_data: '1' });
    expect(shape(s)).toBe('r:FAILED(x:FAILED(x1:FINISHED),z:FAILED)');
    expect(JSON.stringify(s.ex_data)).toBe('{"x":["sub","failed"],"z":null}');
  });

  it('answers a subtree: the subprocess is the answered root and carries the ex_data', () => {
    const { run, e } = setup();
    run(['start', 'r'], ['start', 's'], ['start', 's1'], ['fail', 's1', 'deep']);
    const s = status(e, '10', { subprocess_id: 's', with_ex_data: true });
    expect(s.name).toBe('s');
    expect(shape(s)).toBe('s:FAILED(s1:FAILED)');
    expect(JSON.stringify(s.ex_data)).toBe('{"s1":"deep"}');
    const leafAnswer = status(e, '10', { subprocess_id: 's1', with_ex_data: true });
    expect(JSON.stringify(leafAnswer.ex_data)).toBe('{"s1":"deep"}');
  });
});

describe('the answer shape (SPEC §3.2)', () => {
  it('a node that never ran answers the CREATED shape', () => {
    const { run, e } = setup();
    run(['start', 'r']);
    expect(JSON.stringify(status(e, '10', { subprocess_id: 's' }))).toBe(
      JSON.stringify({
        id: 's',
        state: 'CREATED',
        name: 's',
        retry: 0,
        loop: 0,
        skip: false,
        error_ignorable: false,
        version: '',
        state_refresh_at: '2020-08-17T12:13:53.200Z',
        elapsed_time: 0,
        children: {},
        start_time: '',
        finish_time: '',
      }),
    );
  });

  it('a task that never started answers its root CREATED, named after the task, with no children', () => {
    const { answer } = setup();
    const s = answer({ with_ex_data: true });
    expect(JSON.stringify(s)).toBe(
      JSON.stringify({
        id: 'r',
        state: 'CREATED',
        name: 'ten',
        retry: 0,
        loop: 0,
        skip: false,
        error_ignorable: false,
        version: '',
        state_refresh_at: '2020-08-17T12:13:53.200Z',
        elapsed_time: 0,
        children: {},
        start_time: '',
        finish_time: '',
      }),
    );
  });

  it('children are the direct children that left CREATED, in definition order', () => {
    const { run, answer } = setup();
    run(['start', 'r'], ['start', 's'], ['pause', 'b'], ['resume', 'b'], ['start', 's2']);
    expect(shape(answer())).toBe('r:RUNNING(b:READY,s:RUNNING(s2:RUNNING))');
  });

  it('pins every field of a running node with counters', () => {
    const { c, run, e } = setup();
    run(['start', 'r'], ['start', 'a'], ['fail', 'a', 'x'], ['retry', 'a'], ['start', 'a'], ['fail', 'a'], ['skip', 'a']);
    c.tick(2500);
    expect(JSON.stringify(status(e, '10', { subprocess_id: 'a' }))).toBe(
      JSON.stringify({
        id: 'a',
        state: 'FINISHED',
        name: 'a',
        retry: 2,
        loop: 1,
        skip: true,
        error_ignorable: false,
        version: '00000000000000000000000000000004',
        state_refresh_at: '2020-08-17T12:14:00.200Z',
        elapsed_time: 2,
        children: {},
        start_time: '2020-08-17 20:13:58 +0800',
        finish_time: '2020-08-17 20:14:00 +0800',
      }),
    );
  });
});
