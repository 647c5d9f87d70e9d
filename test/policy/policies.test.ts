/**
 * The auto_retry and timeout policies of node definitions, performed by the engine on a
 * ManualClock: no test sleeps; time moves only by `advance`. Every engine-made change must be an
 * ordinary change and event (the feed shows it), and a timer that lost a race changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, ManualClock, type Engine, type NodeChange, type NodeDefinition } from '../../src/index.js';
import { timeoutMessage } from '../../src/policy/index.js';

const T0 = Date.UTC(2026, 2, 8, 6, 59, 0);
const V = (n: number): string => n.toString(16).padStart(32, '0');

interface Run {
  readonly e: Engine;
  readonly time: ManualClock;
  readonly events: NodeChange[];
  readonly unexpected: unknown[];
}

function run(...children: NodeDefinition[]): Run {
  const time = new ManualClock(T0);
  let n = 0;
  const unexpected: unknown[] = [];
  const e = createEngine({ clock: time.now, timers: time, newVersion: () => V(++n), onUnexpectedError: (x) => unexpected.push(x) });
  e.createProject({ id: '1', bk_biz_id: '2', name: 'p' });
  e.createTask({ id: '10', project_id: '1', name: 't', pipeline: { id: 'r', kind: 'pipeline', children } });
  const events: NodeChange[] = [];
  e.on('node', (c) => events.push(c));
  e.start('10', 'r');
  return { e, time, events, unexpected };
}

const act = (id: string, extra: Partial<NodeDefinition> = {}): NodeDefinition => ({ id, name: id, kind: 'activity', ...extra });
const node = (r: Run, id: string) => r.e.snapshot().getNode('10', id)!;
const moves = (r: Run) => r.events.map((c) => `${c.nodeId} ${c.operation} ${c.from}->${c.to} @${(c.at - T0) / 1000}`);

describe('auto_retry', () => {
  it('retries a failed node after the interval, counting auto_retry_times apart, up to max_times', () => {
    const r = run(act('a', { auto_retry: { max_times: 2, interval_seconds: 10 } }));
    r.e.start('10', 'a');
    r.time.advance(1_000);
    r.e.fail('10', 'a', { ex_data: 'boom' });
    r.time.advance(9_999);
    expect(node(r, 'a').state).toBe('FAILED');
    r.time.advance(1);
    expect(node(r, 'a')).toMatchObject({ state: 'READY', retry: 1, auto_retry_times: 1, version: V(3), ex_data: undefined });
    r.e.start('10', 'a');
    r.e.fail('10', 'a');
    r.time.advance(10_000);
    r.e.start('10', 'a');
    r.e.fail('10', 'a');
    r.time.advance(3_600_000);
    expect(node(r, 'a')).toMatchObject({ state: 'FAILED', retry: 2, auto_retry_times: 2 });
    expect(moves(r).filter((m) => m.includes('auto_retry'))).toEqual(['a auto_retry FAILED->READY @11', 'a auto_retry FAILED->READY @21']);
    // the engine's retries end attempts like a client's: both failures are in the history
    expect(
      r.e
        .snapshot()
        .getHistory('10', 'a')!
        .map((h) => h.state),
    ).toEqual(['FAILED', 'FAILED']);
    expect(r.e.policies.armed).toBe(0);
    expect(r.unexpected).toEqual([]);
  });

  it('a manual retry or skip before the interval disarms it; a manual retry does not count as automatic', () => {
    const r = run(
      act('a', { auto_retry: { max_times: 3, interval_seconds: 5 } }),
      act('b', { auto_retry: { max_times: 3, interval_seconds: 5 } }),
    );
    for (const id of ['a', 'b']) {
      r.e.start('10', id);
      r.e.fail('10', id);
    }
    expect(r.e.policies.armed).toBe(2);
    r.e.retry('10', 'a');
    r.e.skip('10', 'b');
    expect(r.e.policies.armed).toBe(0);
    r.time.advance(60_000);
    expect(node(r, 'a')).toMatchObject({ state: 'READY', retry: 1, auto_retry_times: 0 });
    expect(node(r, 'b')).toMatchObject({ state: 'FINISHED', skip: true, auto_retry_times: 0 });
    expect(moves(r).some((m) => m.includes('auto_retry'))).toBe(false);
  });

  it('a timer that lost a race is refused by the store and changes nothing', () => {
    const r = run(act('a', { auto_retry: { max_times: 1, interval_seconds: 5 } }));
    r.e.start('10', 'a');
    r.e.fail('10', 'a');
    // the orchestrator fails the whole task meanwhile: the leaf's ancestors are no longer live,
    // so the retry that falls due is refused by the store's lifecycle check
    r.e.fail('10', 'r');
    const before = r.e.snapshot();
    r.time.advance(5_000);
    expect(r.time.pending).toBe(0);
    expect(r.e.snapshot()).toBe(before);
    expect(node(r, 'a')).toMatchObject({ state: 'FAILED', auto_retry_times: 0 });
    expect(r.unexpected).toEqual([]);
  });

  it('does not retry a failure that was ignored (error_ignorable finishes the node)', () => {
    const r = run(act('a', { error_ignorable: true, auto_retry: { max_times: 1, interval_seconds: 0 } }));
    r.e.start('10', 'a');
    r.e.fail('10', 'a');
    r.time.advance(1_000);
    expect(node(r, 'a')).toMatchObject({ state: 'FINISHED', error_ignored: true, retry: 0 });
  });
});

describe('timeout', () => {
  it('forced_fail: a node RUNNING past its timeout is forced to fail, with ex_data saying so', () => {
    const r = run(act('a', { timeout: { seconds: 30, action: 'forced_fail' } }));
    r.time.advance(5_000);
    r.e.start('10', 'a');
    r.time.advance(29_999);
    expect(node(r, 'a').state).toBe('RUNNING');
    r.time.advance(1);
    expect(node(r, 'a')).toMatchObject({
      state: 'FAILED',
      finished_at: T0 + 35_000,
      error_ignored: false,
      ex_data: 'node timed out: still RUNNING 30 s after it started (timeout action forced_fail)',
    });
    expect(moves(r).at(-1)).toBe('a forced_fail RUNNING->FAILED @35');
  });

  it('forced_fail_and_skip: forced to fail, then skipped, as two ordinary changes', () => {
    const r = run(act('a', { timeout: { seconds: 1, action: 'forced_fail_and_skip' } }), act('b'));
    r.e.start('10', 'a');
    r.time.advance(1_000);
    expect(moves(r).slice(-2)).toEqual(['a forced_fail RUNNING->FAILED @1', 'a skip FAILED->FINISHED @1']);
    expect(node(r, 'a')).toMatchObject({
      state: 'FINISHED',
      skip: true,
      retry: 1,
      ex_data: timeoutMessage({ seconds: 1, action: 'forced_fail_and_skip' }),
    });
  });

  it('a node that finishes in time is left alone; a callback does not restart the clock', () => {
    const r = run(
      act('a', { timeout: { seconds: 10, action: 'forced_fail' } }),
      act('b', { timeout: { seconds: 10, action: 'forced_fail' } }),
    );
    r.e.start('10', 'a');
    r.e.start('10', 'b');
    r.time.advance(9_000);
    r.e.finish('10', 'a');
    r.e.callback('10', 'b', { data: { progress: 90 } });
    r.time.advance(1_000);
    expect(node(r, 'a').state).toBe('FINISHED');
    expect(node(r, 'b')).toMatchObject({ state: 'FAILED', finished_at: T0 + 10_000 });
  });

  it('each re-entry and each retried run gets its own time limit', () => {
    const r = run(act('a', { timeout: { seconds: 10, action: 'forced_fail' } }));
    r.e.start('10', 'a');
    r.time.advance(4_000);
    r.e.finish('10', 'a');
    r.e.reenter('10', 'a');
    r.time.advance(9_000);
    expect(node(r, 'a').state).toBe('RUNNING');
    r.time.advance(1_000);
    expect(node(r, 'a')).toMatchObject({ state: 'FAILED', loop: 2 });
    r.e.retry('10', 'a');
    r.time.advance(50_000);
    r.e.start('10', 'a');
    r.time.advance(10_000);
    expect(node(r, 'a')).toMatchObject({ state: 'FAILED', retry: 1, finished_at: T0 + 74_000 });
  });

  it('a timeout and an auto retry together: timed out, then retried by the engine', () => {
    const r = run(act('a', { timeout: { seconds: 60, action: 'forced_fail' }, auto_retry: { max_times: 1, interval_seconds: 30 } }));
    r.e.start('10', 'a');
    r.time.advance(90_000);
    r.e.start('10', 'a');
    r.time.advance(3_600_000);
    expect(moves(r).slice(1)).toEqual([
      'a start CREATED->RUNNING @0',
      'a forced_fail RUNNING->FAILED @60',
      'a auto_retry FAILED->READY @90',
      'a start READY->RUNNING @90',
      'a forced_fail RUNNING->FAILED @150',
    ]);
    expect(node(r, 'a')).toMatchObject({ state: 'FAILED', auto_retry_times: 1 });
  });

  it('a deleted task is forgotten: its timers are cancelled', () => {
    const r = run(act('a', { auto_retry: { max_times: 1, interval_seconds: 10 } }));
    r.e.start('10', 'a');
    r.e.fail('10', 'a');
    r.e.finish('10', 'r'); // the flow ends past the failure: the retry stays armed (and would be refused)
    expect(r.time.pending).toBe(1);
    r.e.deleteTask('10');
    expect([r.time.pending, r.e.policies.armed]).toEqual([0, 0]);
  });

  it('a revoked task is forgotten: its timers are cancelled', () => {
    const r = run(act('a', { timeout: { seconds: 10, action: 'forced_fail' } }));
    r.e.start('10', 'a');
    expect(r.time.pending).toBe(1);
    r.e.revoke('10', 'r');
    expect([r.time.pending, r.e.policies.armed]).toEqual([0, 0]);
  });
});

describe('cost when unused', () => {
  it('an engine whose tasks carry no policy never listens to node changes', () => {
    const time = new ManualClock(T0);
    const e = createEngine({ clock: time.now, timers: time });
    e.createProject({ id: '1', name: 'p' });
    e.createTask({ id: '10', project_id: '1', name: 't', pipeline: { id: 'r', kind: 'pipeline', children: [act('a')] } });
    const listeners = (e as unknown as { feed: { emitter: { listenerCount(n: string): number } } }).feed.emitter;
    expect(listeners.listenerCount('node')).toBe(0);
    e.createTask({
      id: '11',
      project_id: '1',
      name: 't',
      pipeline: { id: 'r', kind: 'pipeline', children: [act('a', { auto_retry: { max_times: 1, interval_seconds: 1 } })] },
    });
    expect(listeners.listenerCount('node')).toBe(1);
  });
});

describe('policy definitions', () => {
  const define = (extra: Record<string, unknown>, kind = 'activity') => {
    const e = createEngine();
    e.createProject({ id: '1', name: 'p' });
    const pipeline = { id: 'r', kind: 'pipeline', children: [{ id: 'a', kind, ...extra }] };
    try {
      e.createTask({ id: '10', project_id: '1', name: 't', pipeline } as never);
      return 'accepted';
    } catch (error) {
      return (error as Error).message;
    }
  };
  const at = 'invalid pipeline of task 10: node "a" (pipeline.children[0]) field';

  it.each([
    [{ auto_retry: { max_times: 0, interval_seconds: 1 } }, `${at} auto_retry.max_times: must be a whole number from 1 to 1000`],
    [{ auto_retry: { max_times: 1.5 } }, `${at} auto_retry.max_times: must be a whole number from 1 to 1000`],
    [{ auto_retry: { max_times: 1, interval_seconds: -1 } }, `${at} auto_retry.interval_seconds: must be a whole number from 0 to 86400`],
    [{ auto_retry: { max_times: 1, every: 3 } }, `${at} auto_retry.every: is not a field of auto_retry (max_times, interval_seconds)`],
    [{ auto_retry: 3 }, `${at} auto_retry: must be an object {max_times, interval_seconds}`],
    [{ timeout: { seconds: 0 } }, `${at} timeout.seconds: must be a whole number from 1 to 31536000`],
    [{ timeout: { seconds: 10, action: 'skip' } }, `${at} timeout.action: must be one of forced_fail, forced_fail_and_skip`],
    [{ timeout: ['10'] }, `${at} timeout: must be an object {seconds, action}`],
  ])('%j is refused naming the field', (extra, message) => {
    expect(define(extra)).toBe(message);
  });

  it('only leaves carry policies', () => {
    expect(define({ timeout: { seconds: 5 }, children: [] }, 'subprocess')).toBe(
      `${at} timeout: only a leaf (activity, event or gateway) carries it, not a subprocess`,
    );
  });

  it('defaults: interval 0 s, action forced_fail; null means none', () => {
    expect(define({ auto_retry: { max_times: 1 }, timeout: { seconds: 5 } })).toBe('accepted');
    expect(define({ auto_retry: null, timeout: null })).toBe('accepted');
  });
});

describe('ManualClock', () => {
  it('runs calls due on the way in time order, at their own time, including ones scheduled on the way', () => {
    const time = new ManualClock(100);
    const seen: string[] = [];
    time.schedule(130, () => seen.push(`b@${time.now()}`));
    time.schedule(110, () => {
      seen.push(`a@${time.now()}`);
      time.schedule(120, () => seen.push(`c@${time.now()}`));
    });
    const cancel = time.schedule(125, () => seen.push('cancelled'));
    cancel();
    time.schedule(110, () => seen.push(`a2@${time.now()}`));
    time.advance(25);
    expect([seen, time.now(), time.pending, time.next]).toEqual([['a@110', 'a2@110', 'c@120'], 125, 1, 130]);
    time.advance(5);
    expect(seen.at(-1)).toBe('b@130');
  });
});
