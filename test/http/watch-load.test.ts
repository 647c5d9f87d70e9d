/**
 * Watch streams at the sizes that used to break them: a reconnect thousands of changes behind
 * (megabytes of backlog), and a fresh watch on a 30,000-node task that keeps changing. The
 * backlog is paced into the socket from the change log, and the initial status is written as
 * the client reads it: every change arrives exactly once, in order.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/api/engine.js';
import { ALPHA, harness, qs, type Harness } from './helpers.js';
import { bigTask } from './big-task.js';
import { watch } from './sse-client.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const data = (e: { data: string }) => JSON.parse(e.data) as Record<string, unknown>;

/** Task 10 (root → a), running, on an engine that lets `a` loop forever. */
function loopingEngine() {
  const engine = createEngine({ rerunLimit: 10_000_000 });
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  engine.createTask({
    id: '10',
    project_id: '1',
    name: 't',
    pipeline: { id: 'root', kind: 'pipeline', children: [{ id: 'a', kind: 'activity', name: 'A' }] },
  });
  engine.start('10', 'root');
  engine.start('10', 'a');
  return engine;
}

/** n changes of node a (fail with ex_data, retry, start, finish, reenter, …): their cursors, in order. */
function churn(engine: ReturnType<typeof loopingEngine>, n: number): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const state = engine.snapshot().getNode('10', 'a')!.state;
    const [c] =
      state === 'RUNNING'
        ? i % 3 === 0
          ? engine.fail('10', 'a', { ex_data: `attempt ${i} failed: exit code 2` })
          : engine.finish('10', 'a')
        : state === 'FAILED'
          ? engine.retry('10', 'a')
          : state === 'READY'
            ? engine.start('10', 'a')
            : engine.reenter('10', 'a');
    seqs.push(c.seq);
  }
  return seqs;
}

/** Bytes of the events on the wire: `id: …\nevent: change\ndata: …\n\n`. */
const wireBytes = (events: readonly { id?: string; event: string; data: string }[]): number =>
  events.reduce((n, e) => n + `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`.length, 0);

describe('resuming far behind', () => {
  for (const [behind, retention] of [
    [3_700, undefined],
    [9_000, undefined],
    [16_000, 20_000],
  ] as const) {
    it(`a watcher ${behind.toLocaleString('en')} changes behind gets every change exactly once, in order`, async () => {
      const engine = loopingEngine();
      h = await harness(retention ? { retention: { maxEvents: retention } } : {}, engine);
      const s1 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
      const status = await s1.next();
      s1.drop();
      await s1.closed;
      const missed = churn(engine, behind);
      const s2 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': status.id! });
      const events = await s2.take(behind);
      expect(events.every((e) => e.event === 'change')).toBe(true);
      expect(events.map((e) => Number(e.id))).toEqual(missed);
      expect(wireBytes(events)).toBeGreaterThan(1 << 20);
      // then live, with no gap and no repeat
      const [next] = churn(engine, 1);
      expect(Number((await s2.next()).id)).toBe(next);
      expect(s2.pending).toBe(0);
      s2.drop();
    });
  }
});

describe('a watcher that lags past the retention while connected', () => {
  it('is told in its stream (reset, then a fresh status) and goes on from there, missing nothing silently', async () => {
    const engine = loopingEngine();
    h = await harness({ retention: { maxEvents: 100 } }, engine);
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s.next();
    s.res.pause();
    // Enough to fill the socket's buffers many times over: the server must stop and wait, and the log moves on.
    for (let i = 0; i < 60; i++) {
      churn(engine, 1_000);
      await tick();
    }
    s.res.resume();
    // and the task goes on changing while it catches up
    let last = 0;
    for (let i = 0; i < 20; i++) {
      last = churn(engine, 25).at(-1)!;
      await tick();
    }
    // Read to the last change (or a status that shows it): each reset is followed by a status,
    // and from a status (or the start) on, the changes come one after another with no gap.
    let expected = 4; // the first change after the opening status (cursor 3)
    let resets = 0;
    for (;;) {
      const e = await s.next();
      if (e.event === 'reset') {
        resets++;
        const status = await s.next();
        expect(status.event).toBe('status');
        expected = Number(status.id) + 1;
        if (Number(status.id) >= last) break; // this status already shows the last change
        continue;
      }
      expect(e.event).toBe('change');
      expect(Number(e.id)).toBe(expected++);
      if (Number(e.id) === last) break;
    }
    expect(resets).toBeGreaterThan(0);
    // Caught up: the next change comes as a change, right after.
    const [next] = churn(engine, 1);
    const e = await s.next();
    expect([e.event, Number(e.id)]).toEqual(['change', next]);
    s.drop();
  });
});

describe('many watchers at once', () => {
  it('300 watchers connecting together to a small task all get their stream, with no place in the read queue to spare', async () => {
    const engine = loopingEngine();
    // Every first slice gets one checkpoint, and the queue holds nothing: openings must be light.
    h = await harness({ slicer: { budgetMs: 0 }, admission: { concurrency: 1, queue: 0 } }, engine);
    churn(engine, 10);
    const streams = await Promise.all(Array.from({ length: 300 }, () => watch(`${h!.base}/watch_task_status/10/2/?${qs(ALPHA)}`)));
    for (const s of streams) expect((await s.next()).event).toBe('status');
    const [seq] = churn(engine, 1);
    for (const s of streams) expect(Number((await s.next()).id)).toBe(seq);
    for (const s of streams) s.drop();
  });
});

describe('a fresh watch on a large task that keeps changing', () => {
  it('gets its whole status event (megabytes), then every change after its cursor', async () => {
    const t = bigTask(30, 1000); // 30,031 nodes, every one answered: ~9 MB of status
    h = await harness({}, t.engine);
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    // The task changes all the while the status is being written.
    let stop = false;
    const seqs: number[] = [];
    const writer = (async () => {
      for (let k = 0; !stop && k < t.leaves.length; k++) {
        seqs.push(t.engine.finish('10', t.leaves[k])[0].seq);
        if (k % 20 === 19) await tick();
      }
    })();
    const status = await s.next();
    stop = true;
    await writer;
    expect(status.event).toBe('status');
    expect(status.data.length).toBeGreaterThan(8_000_000);
    const tree = data(status) as { id: string; children: Record<string, { children: Record<string, unknown> }> };
    expect(tree.id).toBe('root');
    expect(Object.keys(tree.children)).toHaveLength(30);
    expect(Object.keys(tree.children.s29.children)).toHaveLength(1000);
    // Changes from the status's cursor on: the ones the status already shows are not repeated.
    const after = seqs.filter((q) => q > Number(status.id));
    const changes = await s.take(after.length);
    expect(changes.map((e) => Number(e.id))).toEqual(after);
    s.drop();
  });
});
