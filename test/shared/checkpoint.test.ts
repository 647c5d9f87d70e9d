/**
 * Instances come and go (issue 11): one instance at a time (the lease holder) writes checkpoints
 * and drops the journal they cover; a new instance boots from the latest checkpoint plus the
 * tail and answers exactly as the others; an instance that fell behind what the journal keeps
 * says so instead of skipping.
 */
import { describe, expect, it } from 'vitest';
import type { SharedEngine } from '../../src/api/shared-engine.js';
import { Store } from '../../src/store/index.js';
import { ChangeFeed } from '../../src/store/events.js';
import { realTimers } from '../../src/store/journal/index.js';
import { PgJournal } from '../../src/store/journal/postgres/pg-journal.js';
import { DEFAULT_FOLLOWER, Follower } from '../../src/store/journal/shared/follower.js';
import { DATABASE_URL, sql } from './pg.js';
import { PIPELINE, sharedSuite } from './helpers.js';

// maintenance only when a test asks for it
const suite = sharedSuite(2, { maintenanceMs: 1e9 });

/** Every task's status and every node's history, as one comparable value. */
async function everything(e: SharedEngine): Promise<unknown> {
  const out: unknown[] = [e.cursor, e.local.highestTaskId];
  for (const t of e.snapshot().tasksInOrder()) {
    const status = await e.getTaskStatus({ bk_biz_id: '2', task_id: t.task.id, with_ex_data: true });
    const { state_refresh_at: _ignored, ...rest } = status.data as unknown as Record<string, unknown>;
    out.push(
      t.task,
      rest,
      t.definition.ids.map((n) => e.snapshot().getHistory(t.task.id, n)),
    );
  }
  return out;
}

async function work(e: SharedEngine, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const t = await e.createTask({ project_id: '1', name: `w${i}`, pipeline: PIPELINE });
    await e.start(t.id, 'root');
    await e.start(t.id, 'a');
    await e.fail(t.id, 'a', { ex_data: `boom ${i}` });
    await e.retry(t.id, 'a');
    if (i % 2 === 0) await e.revoke(t.id, 'root');
  }
}

describe('checkpoints and boot', () => {
  it('one lease holder writes checkpoints; a new instance boots from the latest one plus the tail and answers alike', async () => {
    const [a, b] = suite.engines();
    await work(a, 3);
    const first = await a.checkpoint();
    expect(first).toBeDefined();
    expect(a.status().maintenance).toBe(true);
    // the lease is held: the other instance does no maintenance
    expect(await b.checkpoint()).toBeUndefined();
    expect(b.status().maintenance).toBe(false);

    await work(b, 3);
    await a.reflect(b.cursor);
    const second = await a.checkpoint();
    expect(second!.seq).toBe(a.cursor);
    const left = await sql<{ n: string }>(`SELECT count(*)::text AS n FROM "${suite.schema}".journal WHERE (xid, n) <= ($1::xid8, $2)`, [
      first!.position.xid.toString(),
      first!.position.n,
    ]);
    expect(left[0].n).toBe('0');
    const checkpoints = await sql(`SELECT id FROM "${suite.schema}".checkpoint`);
    expect(checkpoints).toHaveLength(1);

    await work(b, 2);
    const c = await suite.open();
    expect(c.boot.checkpoint?.seq).toBe(second!.seq);
    expect(c.boot.changes).toBeGreaterThan(0);
    await c.reflect(b.cursor);
    await a.reflect(b.cursor);
    expect(await everything(c)).toEqual(await everything(b));
    expect(await everything(a)).toEqual(await everything(b));

    // the new instance numbers new changes as the others do
    const [change] = await c.start((await c.createTask({ project_id: '1', name: 'after', pipeline: PIPELINE })).id, 'root');
    await a.reflect(change.seq);
    expect(a.snapshot().getNode(change.taskId, 'root')?.state).toBe('RUNNING');
  });

  it('the lease passes on when its holder closes', async () => {
    const [a, b] = suite.engines();
    await work(a, 1);
    expect(await a.checkpoint()).toBeDefined(); // which takes the lease
    const probe = await PgJournal.open({ url: DATABASE_URL, schema: suite.schema });
    const held = await probe.lease('maintenance');
    // the first instance holds it: not this probe
    expect(held.held).toBe(false);
    await probe.close();
    const c = await suite.open();
    expect(await c.checkpoint()).toBeUndefined(); // still the first instance's
    await a.close();
    await work(b, 1);
    expect(await b.checkpoint()).toBeDefined();
    expect(b.status().maintenance).toBe(true);
  });

  it('an instance behind what the journal keeps stops with a clear reason instead of skipping', async () => {
    // A checkpoint drops the journal the one before it covers: after two, the first changes are gone.
    const [a] = suite.engines();
    await work(a, 1);
    expect(await a.checkpoint()).toBeDefined();
    await work(a, 1);
    expect(await a.checkpoint()).toBeDefined();
    const port = await PgJournal.open({ url: DATABASE_URL, schema: suite.schema });
    try {
      const store = new Store();
      const f = new Follower(port, store.attachJournal(), new ChangeFeed(() => undefined), realTimers, DEFAULT_FOLLOWER, () => undefined);
      await f.catchUp(0);
      expect(f.entries).toBe(0);
      expect(f.unavailable?.reason).toMatch(/fell behind the journal .*restart it to reload from the latest checkpoint/);
    } finally {
      await port.close();
    }
  });
});
