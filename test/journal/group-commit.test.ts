/**
 * Group commit over a port whose writes the test settles by hand, with manual time: when a
 * change becomes durable, how changes share batches in each mode, and what a failed write does
 * (undo in memory, refuse, probe, accept again).
 */
import { describe, expect, it } from 'vitest';
import { PipestateError } from '../../src/model/index.js';
import { ALL_STATES, maskOf } from '../../src/store/index.js';
import { dumpSnapshot } from '../store/helpers.js';
import { MemoryPort } from './memory-port.js';
import { PIPELINE, openOver, settled } from './helpers.js';

const DISK_FULL = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

async function withTask(mode: 'always' | 'batch' | 'off', options = {}) {
  const port = new MemoryPort();
  let t = 1_000;
  const opened = await openOver(port, { mode, ...options }, { clock: () => t++ });
  opened.store.createProject({ id: '1', name: 'p' });
  opened.store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
  opened.timers.advance(10);
  await settled();
  port.auto = false;
  return { ...opened, port };
}

const refusal = (run: () => unknown): PipestateError => {
  try {
    run();
  } catch (e) {
    if (e instanceof PipestateError) return e;
    throw e;
  }
  throw new Error('not refused');
};

describe('group commit', () => {
  it('applies a change in memory at once and calls it durable only once its batch is written', async () => {
    const { store, port, timers } = await withTask('always');
    const heard: string[] = [];
    store.on('node', (c) => heard.push(`node ${c.seq}`));
    store.on('node_durable', (c) => heard.push(`durable ${c.seq}`));
    const [c] = store.start('10', 'root');
    expect(store.snapshot().getNode('10', 'root')!.state).toBe('RUNNING');
    let durable = false;
    void store.whenDurable(c.seq).then(() => {
      durable = true;
    });
    timers.advance(0);
    expect(port.pending.map((p) => [p.batch.first, p.batch.last, p.batch.entries.map((e) => e.kind)])).toEqual([[3, 3, ['nodes']]]);
    await settled();
    expect(durable).toBe(false);
    expect(heard).toEqual(['node 2']);
    port.settle();
    await settled();
    expect(durable).toBe(true);
    expect(heard).toEqual(['node 2', 'durable 2']);
  });

  it('writes one batch at a time: changes that arrive during a write share the next one', async () => {
    const { store, port, timers } = await withTask('always');
    store.start('10', 'root');
    timers.advance(0);
    store.start('10', 'a');
    store.start('10', 'sub');
    timers.advance(0);
    expect(port.pending).toHaveLength(1);
    port.settle();
    await settled();
    timers.advance(0);
    expect(port.pending.map((p) => p.batch.entries.length)).toEqual([2]);
    expect(port.pending[0].batch).toMatchObject({ first: 4, last: 5, lastSeq: 4 });
  });

  it('batch mode: at most one write per batchMs; a change waits at most that long', async () => {
    const { store, port, timers } = await withTask('batch', { batchMs: 5 });
    store.start('10', 'root');
    timers.advance(0);
    expect(port.pending).toHaveLength(1);
    port.settle();
    await settled();
    timers.advance(1);
    store.start('10', 'a');
    timers.advance(0);
    expect(port.pending).toHaveLength(0);
    timers.advance(3);
    expect(port.pending).toHaveLength(0);
    timers.advance(1);
    expect(port.pending).toHaveLength(1);
  });

  it('durable() waits for everything accepted so far, projects included', async () => {
    const { store, port, timers } = await withTask('always');
    store.createProject({ id: '2', name: 'q' });
    let done = false;
    void store.durable().then(() => {
      done = true;
    });
    timers.advance(0);
    await settled();
    expect(done).toBe(false);
    port.settle();
    await settled();
    expect(done).toBe(true);
  });

  it('a failed write undoes its batch and everything after it, refuses writes with 3599999, then accepts them again once a probe succeeds', async () => {
    const { store, port, timers, logged } = await withTask('always', { retryMs: 1_000 });
    const before = dumpSnapshot(store.snapshot());
    const cursor = store.cursor;
    const [started] = store.start('10', 'root');
    timers.advance(0); // in flight
    store.start('10', 'a');
    store.createTask({ id: '11', project_id: '1', name: 'later', pipeline: PIPELINE });
    store.createProject({ id: '2', bk_biz_id: '7', name: 'later' });
    const waits = [store.whenDurable(started.seq), store.durable()].map((p) =>
      p.then(
        () => 'resolved',
        (e: PipestateError) => `${e.code} ${e.message}`,
      ),
    );
    port.failWith = DISK_FULL;
    port.settle();
    expect(await Promise.all(waits)).toEqual(Array(2).fill('3599999 journal unavailable: the disk is full'));
    expect(dumpSnapshot(store.snapshot())).toEqual(before);
    expect(store.cursor).toBe(cursor);
    expect(store.snapshot().getTask('11')).toBeUndefined();
    expect(store.snapshot().getProject('2')).toBeUndefined();
    expect(logged.join('\n')).toMatch(/journal write failed; 4 change\(s\) not yet durable were undone/);

    // Refused while unavailable, and nothing changes; reads go on.
    const e = refusal(() => store.start('10', 'root'));
    expect([e.code, e.message]).toEqual([3599999, 'journal unavailable: the disk is full']);
    expect(refusal(() => store.createProject({ id: '3', name: 'x' })).code).toBe(3599999);
    expect(dumpSnapshot(store.snapshot())).toEqual(before);

    timers.advance(1_000); // probe: still full
    await settled();
    expect(port.probes).toBe(1);
    expect(refusal(() => store.start('10', 'root')).code).toBe(3599999);
    port.failWith = undefined;
    timers.advance(1_000);
    await settled();
    expect(logged.at(-1)).toBe('journal writable again; writes are accepted');
    // Ids and seqs that were undone are free again: the journal never saw them.
    const [again] = store.start('10', 'root');
    expect(again.seq).toBe(started.seq);
    store.createTask({ id: '11', project_id: '1', name: 'later', pipeline: PIPELINE });
    store.createProject({ id: '2', bk_biz_id: '7', name: 'later' });
    timers.advance(0);
    port.settle();
    await settled();
    expect(port.batches.at(-1)!.entries.map((e) => e.kind)).toEqual(['nodes', 'task', 'project']);
  });

  it('a failed write also puts back what the store counts beside its records: quota usage, the root-state index, capped histories, deletions, the highest id', async () => {
    const port = new MemoryPort();
    let t = 1_000;
    const { store, timers } = await openOver(
      port,
      { mode: 'always', retryMs: 1_000 },
      { clock: () => t++, limits: { maxNodeHistories: 1 } },
    );
    store.createProject({ id: '1', name: 'p' });
    store.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
    store.createTask({ id: '12', project_id: '1', name: 'twelve', pipeline: PIPELINE });
    store.start('10', 'root');
    store.start('10', 'a');
    store.fail('10', 'a', { ex_data: 'first' });
    store.retry('10', 'a');
    // a record that holds ex_data when the write fails: restore counts it back
    store.start('10', 'sub');
    store.start('10', 'b');
    store.fail('10', 'b', { ex_data: 'held by the record' });
    timers.advance(10);
    await settled();
    port.auto = false;
    const view = () => {
      const list = store.taskListOf('1')!;
      return JSON.stringify({
        quota: store.quota('1'),
        listed: [list.count(ALL_STATES), list.count(maskOf(['RUNNING'])), list.count(maskOf(['CREATED'])), list.newest(ALL_STATES, 0)],
        highest: store.highestTaskId,
        size: store.snapshot().size,
        dump: [...dumpSnapshot(store.snapshot())].map(([id, m]) => [id, [...m]]),
      });
    };
    const before = view();
    store.start('10', 'a');
    store.fail('10', 'a', { ex_data: 'second, longer' });
    store.retry('10', 'a'); // the cap drops the first attempt
    store.deleteTask('12');
    store.createTask({ project_id: '1', name: 'assigned', pipeline: PIPELINE }); // id 13
    store.revoke('10', 'root');
    expect(view()).not.toBe(before);
    timers.advance(0);
    port.failWith = DISK_FULL;
    port.settle();
    await settled();
    expect(view()).toBe(before);
    expect(store.snapshot().getTask('12')?.task.name).toBe('twelve');
    port.failWith = undefined;
    timers.advance(1_000);
    await settled();
    // Accepted again, counted from the restored usage: the same moves land the same way.
    store.deleteTask('12');
    expect(store.quota('1')!.usage.tasks).toBe(1);
    expect(store.createTask({ project_id: '1', name: 'assigned', pipeline: PIPELINE }).id).toBe('13');
  });

  it('refuses writes when too many changes wait for the disk', async () => {
    const { store } = await withTask('always', { maxPending: 2 });
    store.start('10', 'root');
    store.start('10', 'a');
    const before = dumpSnapshot(store.snapshot());
    const e = refusal(() => store.start('10', 'sub'));
    expect([e.code, e.message]).toEqual([3599999, 'journal unavailable: changes arrive faster than the disk takes them']);
    expect(dumpSnapshot(store.snapshot())).toEqual(before);
  });

  it('whenDurable refuses a cursor that was never handed out', async () => {
    const { store } = await withTask('always');
    await expect(store.whenDurable(store.cursor + 1)).rejects.toMatchObject({ code: 3540000 });
  });
});
