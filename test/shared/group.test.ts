/**
 * Group commit (issue 11): commands on different tasks that arrive while a group commits share
 * the next transaction; commands on one task never share one (the second decides after the
 * first is applied), so a burst on one node is decided exactly as in process.
 */
import { describe, expect, it } from 'vitest';
import { PipestateError } from '../../src/index.js';
import { sql } from './pg.js';
import { PIPELINE, sharedSuite } from './helpers.js';

const suite = sharedSuite(1);

describe('group commit', () => {
  it('a burst over many tasks shares transactions; every change is acknowledged once, with contiguous cursors', async () => {
    const [e] = suite.engines();
    const tasks: string[] = [];
    for (let i = 0; i < 8; i++) {
      const t = await e.createTask({ project_id: '1', name: `g${i}`, pipeline: PIPELINE });
      await e.start(t.id, 'root');
      await e.start(t.id, 'a');
      tasks.push(t.id);
    }
    const before = e.cursor;
    const results = await Promise.all([...Array(48)].map((_, i) => e.callback(tasks[i % 8], 'a', { data: i })));
    const seqs = results.map(([c]) => c.seq).sort((x, y) => x - y);
    expect(seqs).toEqual([...Array(48)].map((_, i) => before + 1 + i));
    const rows = await sql<{ xid: string; k: string }>(`SELECT xid::text, count(*)::text AS k FROM "${suite.schema}".journal GROUP BY xid`);
    const entries = rows.reduce((n, r) => n + Number(r.k), 0);
    expect(rows.length).toBeLessThan(entries);
    expect(rows.some((r) => Number(r.k) > 1)).toBe(true);
  });

  it('a burst on one node is decided one after another: one retry accepted, the others refused as in process', async () => {
    const [e] = suite.engines();
    const t = await e.createTask({ project_id: '1', name: 'burst', pipeline: PIPELINE });
    await e.start(t.id, 'root');
    await e.start(t.id, 'a');
    await e.fail(t.id, 'a');
    const outcomes = await Promise.all(
      [...Array(10)].map(() =>
        e.retry(t.id, 'a').then(
          () => 'ok',
          (err: unknown) => (err instanceof PipestateError ? err.message : String(err)),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(new Set(outcomes.filter((o) => o !== 'ok'))).toEqual(
      new Set([`cannot retry node a of task ${t.id}: state is READY, retry needs FAILED`]),
    );
    // and a burst of compatible commands on one task: all accepted, in order
    const [c0] = await e.start(t.id, 'a');
    const all = await Promise.all([...Array(10)].map((_, i) => e.callback(t.id, 'a', { data: i })));
    expect(all.map(([c]) => c.seq).sort((x, y) => x - y)).toEqual([...Array(10)].map((_, i) => c0.seq + 1 + i));
  });
});
