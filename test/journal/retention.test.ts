/**
 * Retention with an injected clock: a task done for good leaves memory after the first age and
 * is answered from storage exactly as before (every subtree, every node's detail, batch status),
 * also after a restart; after the second age it is gone (3540400) and storage forgets it.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type DurableEngine } from '../../src/api/durable-engine.js';
import { PIPELINE } from './helpers.js';

const HOUR = 3_600_000;
const RETENTION = { archiveAfterMs: 24 * HOUR, expireAfterMs: 30 * 24 * HOUR, sweepEveryMs: 365 * 24 * HOUR };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const clock = { now: Date.UTC(2024, 0, 1) };
const tick = (ms = 1_000) => (clock.now += ms);
const open = (dataDir: string) => openEngine({ dataDir, clock: () => clock.now, retention: RETENTION, log: () => {} });
const ctx = { request_id: 'r', trace_id: 't' };

/** Every answer about a task, through the queries that read storage too. */
async function answersOf(engine: DurableEngine, taskId: string, nodeIds: readonly string[]): Promise<unknown[]> {
  const base = { bk_biz_id: '2', task_id: taskId, with_ex_data: true };
  const out: unknown[] = [];
  for (const n of nodeIds) {
    out.push(await engine.stored.getTaskStatus({ ...base, subprocess_id: n }, ctx));
    out.push(await engine.stored.getTaskNodeDetail({ ...base, node_id: n }, ctx));
  }
  out.push(await engine.stored.getTaskStatus(base, ctx));
  return out;
}

const NODES = ['root', 'a', 'sub', 'b', 'c'];

describe('retention', () => {
  it('archives done tasks after the first age, answers them from storage unchanged, forgets them after the second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipestate-retention-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    let engine = await open(dataDir);
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'one', time_zone: 'Asia/Shanghai' });
    for (const id of ['10', '11', '12']) engine.createTask({ id, project_id: '1', name: `task ${id}`, pipeline: PIPELINE });
    // 10: finished, with a failure retried and error data kept in its history
    for (const [op, node, args] of [
      ['start', 'root'],
      ['start', 'a'],
      ['fail', 'a', { ex_data: { why: 'exit 2', __proto__: null } }],
      ['retry', 'a'],
      ['start', 'a'],
      ['finish', 'a'],
      ['start', 'sub'],
      ['start', 'b'],
      ['finish', 'b'],
      ['start', 'c'],
      ['fail', 'c', { ex_data: 'ignored' }],
      ['finish', 'sub'],
      ['finish', 'root'],
    ] as const) {
      tick();
      engine.apply('10', node, op, args as never);
    }
    // 11: revoked while running; 12: still running
    engine.start('11', 'root');
    engine.start('11', 'a');
    tick();
    engine.revoke('11', 'root');
    engine.start('12', 'root');
    const finished = clock.now;
    await engine.durable();
    const before = { ten: await answersOf(engine, '10', NODES), eleven: await answersOf(engine, '11', NODES) };
    const batch = { bk_biz_id: '2', task_id_list: ['10', '11', '12', '99'], include_children_status: true };
    const batchBefore = await engine.stored.getTasksStatus(batch, ctx);

    clock.now = finished + RETENTION.archiveAfterMs - 2_000;
    expect(await engine.sweep()).toEqual({ archived: 0, expired: 0 });
    clock.now = finished + RETENTION.archiveAfterMs;
    expect(await engine.sweep()).toEqual({ archived: 2, expired: 0 });
    expect(engine.snapshot().getTask('10')).toBeUndefined();
    expect(engine.snapshot().size).toBe(1);
    expect(engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' })).toMatchObject({ code: 3540400 });
    expect(await answersOf(engine, '10', NODES)).toEqual(before.ten);
    expect(await answersOf(engine, '11', NODES)).toEqual(before.eleven);
    const batchAfter = await engine.stored.getTasksStatus(batch, ctx);
    expect(batchAfter.message).toBe('task 99 does not exist');
    // 10 and 11 from storage, as before; 12 (running: its elapsed time grew) from memory
    expect(batchAfter.data!.map((e) => e.id)).toEqual([10, 11, 12]);
    expect(batchAfter.data!.slice(0, 2)).toEqual(batchBefore.data!.slice(0, 2));
    await engine.durable();

    // A crash (what the disk holds now) replays the archiving; a clean restart keeps it out of the checkpoint.
    const crashed = join(dir, 'crashed');
    cpSync(dataDir, crashed, { recursive: true });
    await engine.close();
    for (const d of [crashed, dataDir]) {
      engine = await open(d);
      expect(engine.recovery.tasks).toBe(1);
      expect(await answersOf(engine, '10', NODES)).toEqual(before.ten);
      expect(await answersOf(engine, '11', NODES)).toEqual(before.eleven);
      if (d === crashed) await engine.close();
    }

    clock.now = finished + RETENTION.expireAfterMs - 2_000;
    expect((await engine.stored.getTaskStatus({ bk_biz_id: '2', task_id: '10' })).code).toBe(0);
    clock.now = finished + RETENTION.expireAfterMs;
    expect(await engine.stored.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, ctx)).toMatchObject({
      result: false,
      code: 3540400,
      message: 'task 10 does not exist',
    });
    expect(await engine.sweep()).toEqual({ archived: 0, expired: 2 });
    expect(await engine.stored.getTaskNodeDetail({ bk_biz_id: '2', task_id: '11', node_id: 'a' }, ctx)).toMatchObject({ code: 3540400 });
    await engine.close();
  });

  it('a task of another project is not answered from the archive either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipestate-retention-'));
    dirs.push(dir);
    const engine = await open(join(dir, 'data'));
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
    engine.createProject({ id: '3', bk_biz_id: '4', name: 'three' });
    engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
    engine.deleteTask('10'); // never started: deletable
    engine.createTask({ id: '11', project_id: '1', name: 'eleven', pipeline: PIPELINE });
    engine.start('11', 'root');
    engine.revoke('11', 'root');
    clock.now += RETENTION.archiveAfterMs;
    expect(await engine.sweep()).toEqual({ archived: 1, expired: 0 });
    expect(await engine.stored.getTaskStatus({ bk_biz_id: '4', task_id: '11' }, ctx)).toMatchObject({
      code: 3540400,
      message: 'task 11 does not exist',
    });
    expect(await engine.stored.getTaskStatus({ bk_biz_id: '2', task_id: '10' }, ctx)).toMatchObject({ code: 3540400 });
    expect((await engine.stored.getTaskStatus({ bk_biz_id: '2', task_id: '11' }, ctx)).data).toMatchObject({ state: 'REVOKED' });
    await engine.close();
    // Neither task is in memory or in the checkpoint now; their ids stay used.
    const again = await open(join(dir, 'data'));
    expect([again.recovery.tasks, again.highestTaskId]).toEqual([0, 11]);
    await again.close();
  });
});
