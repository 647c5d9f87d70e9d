/** Two instances on one database: any instance, any task; read your writes anywhere; cursors global. */
import { describe, expect, it } from 'vitest';
import { ManualTimers } from '../journal/manual-timers.js';
import { PIPELINE, PROJECT, sharedSuite } from './helpers.js';

const suite = sharedSuite(2);

describe('two instances, one database', () => {
  it('a task created on one instance is operated on the other, and both answer alike', async () => {
    const [a, b] = suite.engines();
    await b.ensureProject(PROJECT);
    const task = await a.createTask({ project_id: '1', name: 'deploy', pipeline: PIPELINE });
    expect(task.id).toMatch(/^[0-9]+$/);
    const [started] = await b.start(task.id, 'root');
    expect(started).toMatchObject({ taskId: task.id, nodeId: 'root', from: 'CREATED', to: 'RUNNING' });
    await a.reflect(started.seq);
    const query = { bk_biz_id: '2', task_id: task.id };
    const fromA = await a.getTaskStatus(query);
    const fromB = await b.getTaskStatus(query);
    expect(fromA.data).toEqual(fromB.data);
    expect(fromA.data?.state).toBe('RUNNING');
  });

  it('ids drawn on either instance never collide', async () => {
    const [a, b] = suite.engines();
    const made = await Promise.all(
      [...Array(10)].map((_, i) => (i % 2 ? a : b).createTask({ project_id: '1', name: `t${i}`, pipeline: PIPELINE })),
    );
    expect(new Set(made.map((t) => t.id)).size).toBe(10);
  });

  it('cursors are global: each instance numbers every change alike', async () => {
    const [a, b] = suite.engines();
    const seen: { a: string[]; b: string[] } = { a: [], b: [] };
    const onA = (c: { seq: number; taskId: string; nodeId: string; to: string }) => seen.a.push(`${c.seq}:${c.taskId}/${c.nodeId}=${c.to}`);
    const onB = (c: { seq: number; taskId: string; nodeId: string; to: string }) => seen.b.push(`${c.seq}:${c.taskId}/${c.nodeId}=${c.to}`);
    a.on('node', onA);
    b.on('node', onB);
    const t1 = await a.createTask({ project_id: '1', name: 'x', pipeline: PIPELINE });
    const t2 = await b.createTask({ project_id: '1', name: 'y', pipeline: PIPELINE });
    const changes = (
      await Promise.all([
        a.start(t1.id, 'root'),
        b.start(t2.id, 'root'),
        a.start(t2.id, 'a').catch(() => []),
        b.start(t1.id, 'a').catch(() => []),
      ])
    ).flat();
    const last = Math.max(...changes.map((c) => c.seq));
    await a.reflect(last);
    await b.reflect(last);
    a.off('node', onA);
    b.off('node', onB);
    expect(seen.a).toEqual(seen.b);
    expect(seen.a.length).toBeGreaterThanOrEqual(2);
  });

  it('a query naming a cursor the instance has not applied waits for it', async () => {
    const [a, b] = suite.engines();
    const t = await a.createTask({ project_id: '1', name: 'z', pipeline: PIPELINE });
    const [c] = await a.start(t.id, 'root');
    await b.whenDurable(c.seq);
    await b.durable();
    const answer = await b.getTaskStatus({ bk_biz_id: '2', task_id: t.id, min_cursor: c.seq });
    expect(answer.data?.state).toBe('RUNNING');
    const refused = await b.getTaskStatus({ bk_biz_id: '2', task_id: t.id, min_cursor: 'soon' });
    expect(refused).toMatchObject({ result: false, code: 3540000 });
    expect(refused.message).toMatch(/min_cursor/);
  });
});

describe('a query naming a cursor this instance has not applied', () => {
  it('waits reflectMs (timers injected), then refuses with 3599999 naming the cursor: never an older state', async () => {
    const timers = new ManualTimers();
    const e = await suite.open({ journalTimers: timers, reflectMs: 1_000 });
    const ahead = e.cursor + 1_000;
    let answer: { result: boolean; code: number; message: string } | undefined;
    void e.getTaskStatus({ bk_biz_id: '2', task_id: '1', min_cursor: ahead }).then((a) => {
      answer = a;
    });
    await new Promise((resolve) => setImmediate(resolve));
    timers.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answer).toBeUndefined();
    timers.advance(1);
    await expect.poll(() => answer).toBeDefined();
    expect(answer).toMatchObject({ result: false, code: 3599999 });
    expect(answer!.message).toBe(`journal unavailable: cursor ${ahead}: not applied on this instance within 1000 ms`);
  });
});
