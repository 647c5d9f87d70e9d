/**
 * Retention across instances (issue 11): one instance (the lease holder) archives tasks done for
 * good; every instance applies the leaving, answers the task from the database in the same shape
 * until it expires, then as missing.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINE, sharedSuite } from './helpers.js';

let now = Date.UTC(2026, 0, 1);
const suite = sharedSuite(2, {
  clock: () => now,
  maintenanceMs: 1e9,
  retention: { archiveAfterMs: 60_000, expireAfterMs: 600_000, sweepEveryMs: 60_000 },
});

describe('retention across instances', () => {
  it('archived by the lease holder, answered alike from the database by the other instance, then gone', async () => {
    const [a, b] = suite.engines();
    const t = await a.createTask({ project_id: '1', name: 'old', pipeline: PIPELINE });
    await a.start(t.id, 'root');
    const [done] = await b.finish(t.id, 'root');
    await a.reflect(done.seq);
    const query = { bk_biz_id: '2', task_id: t.id, with_ex_data: true };
    const before = await b.getTaskStatus(query);
    expect(before.result).toBe(true);

    expect(await a.checkpoint()).toBeDefined(); // the first instance takes the lease
    now += 60_000;
    expect(await b.sweep()).toEqual({ archived: 0, expired: 0 }); // not the lease holder: does nothing
    expect(b.snapshot().getTask(t.id)).toBeDefined();
    expect(await a.sweep()).toEqual({ archived: 1, expired: 0 });
    // b applies the leaving (bounded wait on real I/O): the task leaves its memory, and is answered from the database
    const end = performance.now() + 10_000;
    while (b.snapshot().getTask(t.id) !== undefined && performance.now() < end) await new Promise((r) => setImmediate(r));
    expect(b.snapshot().getTask(t.id)).toBeUndefined();
    expect((await b.getTaskStatus(query)).data).toEqual(before.data);
    expect((await a.getTaskStatus(query)).data).toEqual(before.data);

    now += 600_000;
    expect((await b.getTaskStatus(query)).code).toBe(3540400);
    expect(await a.sweep()).toEqual({ archived: 0, expired: 1 });
  });
});
