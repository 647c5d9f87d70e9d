/** operate_task and operate_node (SPEC §4): resolved like queries, checked by the lifecycle. */
import { describe, expect, it } from 'vitest';
import type { NodeChange } from '../../src/index.js';
import { CTX, twoProjectTasks, version } from './helpers.js';

function setup() {
  const { c, e } = twoProjectTasks();
  e.start('10', 'a');
  c.tick(1000);
  return { c, e };
}
const at = '2020-08-17T12:13:54.200Z';

describe('operate_task', () => {
  it('pauses and resumes the root, answering the changed node', () => {
    const { e } = setup();
    const env = e.operateTask({ bk_biz_id: '2', task_id: '10', action: 'pause' }, CTX);
    expect(env).toEqual({
      result: true,
      code: 0,
      message: '',
      request_id: 'req',
      trace_id: 'trace',
      data: {
        task_id: '10',
        node_id: 'r',
        action: 'pause',
        changes: [{ id: 'r', from: 'RUNNING', state: 'SUSPENDED', version: version(1), state_refresh_at: at }],
      },
    });
    expect(e.operateTask({ bk_biz_id: 2, task_id: 10, action: 'resume' }).data!.changes[0].state).toBe('RUNNING');
  });

  it('revokes the root and its active descendants', () => {
    const { e } = setup();
    const env = e.operateTask({ bk_biz_id: '2', task_id: '10', action: 'revoke' });
    expect(env.data!.changes.map((ch) => [ch.id, ch.from, ch.state])).toEqual([
      ['r', 'RUNNING', 'REVOKED'],
      ['a', 'RUNNING', 'REVOKED'],
    ]);
  });

  it('refuses what the lifecycle refuses with 3545000 and the reason, changing nothing', () => {
    const { e } = setup();
    const before = e.snapshot();
    const env = e.operateTask({ bk_biz_id: '2', task_id: '10', action: 'resume' });
    expect([env.code, env.message]).toEqual([3545000, 'cannot resume node r of task 10: state is RUNNING, resume needs SUSPENDED']);
    expect(e.snapshot()).toBe(before);
  });

  it('refuses unknown actions, and tasks of other projects as missing', () => {
    const { e } = setup();
    expect(e.operateTask({ bk_biz_id: '2', task_id: '10', action: 'retry' }).message).toBe(
      'invalid action: must be one of pause, resume, revoke',
    );
    expect(e.operateTask({ bk_biz_id: '2', task_id: '30', action: 'pause' }).message).toBe('task 30 does not exist');
    expect(e.snapshot().getNode('30', 'r')!.state).toBe('CREATED');
  });
});

describe('operate_node', () => {
  it('forced_fail carries ex_data and a new version; retry and skip follow', () => {
    const { e } = setup();
    const failed = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', ex_data: { why: 'stuck' } });
    expect(failed.data!.changes).toEqual([{ id: 'a', from: 'RUNNING', state: 'FAILED', version: version(3), state_refresh_at: at }]);
    expect(e.snapshot().getNode('10', 'a')!.ex_data).toEqual({ why: 'stuck' });
    const retried = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'retry', ex_data: 'ignored: retry takes none' });
    expect(retried.data!.changes[0]).toMatchObject({ from: 'FAILED', state: 'READY', version: version(4) });
    const refused = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'skip' });
    expect([refused.code, refused.message]).toEqual([3545000, 'cannot skip node a of task 10: state is READY, skip needs FAILED']);
  });

  // A request's fields the action does not take are ignored, like any field not in its schema:
  // data reaches the orchestrator only with a callback, ex_data is kept only by forced_fail.
  it('stray data and ex_data are dropped: retry takes neither, and the change feed carries no data', () => {
    const { e } = setup();
    e.forcedFail('10', 'a', { ex_data: 'first' });
    const seen: NodeChange[] = [];
    e.on('node', (ch) => seen.push(ch));
    const env = e.operateNode({
      bk_biz_id: '2',
      task_id: '10',
      node_id: 'a',
      action: 'retry',
      data: { stray: true },
      ex_data: 'stray too',
    });
    expect([env.code, env.message]).toEqual([0, '']);
    expect(env.data!.changes).toEqual([{ id: 'a', from: 'FAILED', state: 'READY', version: version(4), state_refresh_at: at }]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('data');
    expect(e.snapshot().getNode('10', 'a')!.ex_data).toBeUndefined();
    e.start('10', 's');
    const paused = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 's1', action: 'pause', data: [1], ex_data: { no: 1 } });
    expect(paused.code).toBe(0);
    expect(seen.map((ch) => [ch.nodeId, ch.to, 'data' in ch])).toEqual([
      ['a', 'READY', false],
      ['s', 'RUNNING', false],
      ['s1', 'SUSPENDED', false],
    ]);
  });

  it('checks the version the caller last saw', () => {
    const { e } = setup();
    const stale = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', version: version(9) });
    expect(stale.code).toBe(3545000);
    expect(stale.message).toContain(`version "${version(9)}" is not the node's version`);
    const fresh = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', version: version(2) });
    expect(fresh.code).toBe(0);
  });

  it('a null version is no version (no guard); null and "" ex_data are data', () => {
    const { e } = setup();
    const nullVersion = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', version: null, ex_data: null });
    expect(nullVersion.code).toBe(0);
    expect(e.snapshot().getNode('10', 'a')).toMatchObject({ state: 'FAILED', ex_data: null });
    e.retry('10', 'a');
    e.start('10', 'a');
    e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', ex_data: '' });
    expect(e.snapshot().getNode('10', 'a')).toMatchObject({ state: 'FAILED', ex_data: '' });
    expect(JSON.stringify(e.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data: true }).data!.ex_data)).toBe('{"a":""}');
  });

  it("an empty version is a version (a never-started node's), not a missing one", () => {
    const { e } = setup();
    const before = e.snapshot();
    const stale = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'forced_fail', version: '' });
    expect([stale.code, stale.message]).toEqual([
      3545000,
      `cannot forced_fail node a of task 10: state is RUNNING, version "" is not the node's version "${version(2)}"`,
    ]);
    expect(e.snapshot()).toBe(before);
  });

  it('callback hands data to the orchestrator through the change feed', () => {
    const { e } = setup();
    const seen: NodeChange[] = [];
    e.on('node', (ch) => seen.push(ch));
    const env = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'callback', data: { ok: true } });
    expect(env.data!.changes).toEqual([{ id: 'a', from: 'RUNNING', state: 'RUNNING', version: version(2), state_refresh_at: at }]);
    expect(seen.map((ch) => [ch.operation, ch.data])).toEqual([['callback', { ok: true }]]);
  });

  it('pauses a leaf before it runs and resumes it to READY', () => {
    const { e } = setup();
    e.start('10', 's');
    expect(e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 's1', action: 'pause' }).data!.changes[0].state).toBe('SUSPENDED');
    expect(e.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data!.state).toBe('NODE_SUSPENDED');
    expect(e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 's1', action: 'resume' }).data!.changes[0].state).toBe('READY');
  });

  it.each([
    [{ action: 'revoke' }, 'invalid action: must be one of retry, skip, pause, resume, forced_fail, callback'],
    [{ action: 'start' }, 'invalid action: must be one of retry, skip, pause, resume, forced_fail, callback'],
    [{ action: undefined }, 'invalid action: is required'],
    [{ action: 'retry', node_id: undefined }, 'invalid node_id: is required'],
    [{ action: 'retry', version: 5 }, 'invalid version: must be a string'],
    [{ action: 'forced_fail', ex_data: Number.NaN }, 'invalid ex_data: ex_data is not a finite number'],
    [{ action: 'callback', data: { f: () => 1 } }, 'invalid data: data.f is not a JSON value'],
  ])('%j → 3540000 %s', (fields, message) => {
    const { e } = setup();
    const env = e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'a', ...fields });
    expect([env.code, env.message]).toEqual([3540000, message]);
  });

  it('an unknown node is 3540400', () => {
    const { e } = setup();
    expect(e.operateNode({ bk_biz_id: '2', task_id: '10', node_id: 'zz', action: 'retry' }).message).toBe(
      'node zz does not exist in task 10',
    );
  });
});
