/** GET /watch_task_status: Server-Sent Events, subtree filtering, resume with Last-Event-ID. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangeLog } from '../../src/api/http/change-log.js';
import { createEngine } from '../../src/api/engine.js';
import { bigTask } from './big-task.js';
import { ALPHA, ESB, PIPELINE, harness, qs, seededEngine, send, type Harness } from './helpers.js';
import { watch, type Stream } from './sse-client.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const data = (e: { data: string }) => JSON.parse(e.data) as Record<string, unknown>;

const watchers = async (on: Harness): Promise<number> =>
  ((await send(on.base, 'GET', '/healthz')).json!.data as { watchers: number }).watchers;

/**
 * The server's watcher count once it has noticed a closed connection, which it does
 * asynchronously: asks a bounded number of times (each round trip lets the close through).
 */
async function watchersAfterClose(on: Harness): Promise<number> {
  let n = await watchers(on);
  for (let attempt = 0; attempt < 50 && n !== 0; attempt++) n = await watchers(on);
  return n;
}

describe('watch_task_status', () => {
  it('starts with the status, then one change event per change in the task, each with a cursor id', async () => {
    h = await harness();
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    expect(s.res.headers['content-type']).toMatch(/^text\/event-stream/);
    const status = await s.next();
    expect(status.event).toBe('status');
    expect(data(status)).toMatchObject({ id: 'root', state: 'CREATED' });
    h.engine.start('10', 'root');
    h.engine.start('30', 'root'); // another task: not in this stream
    h.engine.start('10', 'a');
    const [c1, c2] = await s.take(2);
    expect([c1.event, c2.event]).toEqual(['change', 'change']);
    expect(data(c1)).toMatchObject({
      task_id: '10',
      node_id: 'root',
      operation: 'start',
      from: 'CREATED',
      to: 'RUNNING',
      state: 'RUNNING',
      loop: 1,
    });
    expect(data(c2)).toMatchObject({ node_id: 'a' });
    expect(Number(c2.id)).toBeGreaterThan(Number(c1.id));
    expect(data(c2).cursor).toBe(Number(c2.id));
    s.drop();
  });

  it('with subprocess_id, only changes inside that subtree (at any depth) are sent', async () => {
    h = await harness();
    h.engine.start('10', 'root');
    const s = await watch(`${h.base}${ESB('watch_task_status')}?${qs({ ...ALPHA, bk_biz_id: '2', task_id: '10', subprocess_id: 'sub' })}`);
    expect(data(await s.next())).toMatchObject({ id: 'sub', state: 'CREATED' });
    h.engine.start('10', 'a'); // outside
    h.engine.start('10', 'sub');
    h.engine.start('10', 'd'); // outside, after the subtree in preorder
    h.engine.start('10', 'sub2');
    h.engine.start('10', 'c'); // two levels down
    const events = await s.take(3);
    expect(events.map((e) => data(e).node_id)).toEqual(['sub', 'sub2', 'c']);
    s.drop();
  });

  it('an empty subprocess_id watches the whole task, as get_task_status reads it', async () => {
    h = await harness();
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}&subprocess_id=`);
    expect(data(await s.next())).toMatchObject({ id: 'root', state: 'CREATED' });
    h.engine.start('10', 'root');
    expect(data(await s.next())).toMatchObject({ node_id: 'root', to: 'RUNNING' });
    s.drop();
  });

  it('after a dropped connection, Last-Event-ID resumes with exactly the missed changes', async () => {
    h = await harness();
    const s1 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s1.next();
    h.engine.start('10', 'root');
    const seen = await s1.next();
    s1.drop();
    await s1.closed;
    // while disconnected
    h.engine.start('10', 'a');
    h.engine.fail('10', 'a', { ex_data: 'boom' });
    h.engine.start('10', 'd');
    const s2 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': seen.id! });
    const missed = await s2.take(3);
    expect(missed.map((e) => `${data(e).node_id}:${data(e).to}`)).toEqual(['a:RUNNING', 'a:FAILED', 'd:RUNNING']);
    expect(data(missed[1]).ex_data).toBe('boom');
    // and then live, with no gap and no repeat: a repeated or missing change would show before
    // the marker that follows
    h.engine.finish('10', 'd');
    h.engine.start('10', 'sub'); // the marker
    const live = await s2.take(2);
    expect(live.map((e) => `${data(e).node_id}:${data(e).to}`)).toEqual(['d:FINISHED', 'sub:RUNNING']);
    expect(live.map((e) => Number(e.id))).toEqual([Number(missed[2].id) + 1, Number(missed[2].id) + 2]);
    s2.drop();
  });

  it('the status cursor of a fresh watch resumes too, even before any change was seen', async () => {
    h = await harness();
    const s1 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    const status = await s1.next();
    expect(status.id).toBe('0');
    s1.drop();
    h.engine.start('10', 'root');
    const s2 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': status.id! });
    expect(data(await s2.next())).toMatchObject({ node_id: 'root', to: 'RUNNING' });
    s2.drop();
  });

  it('says plainly when the cursor is no longer retained, then sends the full status', async () => {
    h = await harness({ retention: { maxEvents: 2 } });
    const s1 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s1.next();
    h.engine.start('10', 'root');
    const seen = await s1.next();
    s1.drop();
    h.engine.start('10', 'a');
    h.engine.start('10', 'sub');
    h.engine.start('10', 'd'); // the log keeps 2: the change after `seen` is gone
    const s2 = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': seen.id! });
    const reset = await s2.next();
    expect(reset.event).toBe('reset');
    expect(String(data(reset).message)).toMatch(/no longer retained.*last 2 changes.*full status follows/);
    const status = await s2.next();
    expect(status.event).toBe('status');
    expect(data(status)).toMatchObject({ id: 'root', state: 'RUNNING' });
    s2.drop();
  });

  it('a cursor that is not a number, or from the future, is answered with a reset', async () => {
    h = await harness();
    for (const id of ['abc', '999999']) {
      const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': id });
      expect((await s.next()).event).toBe('reset');
      expect((await s.next()).event).toBe('status');
      s.drop();
    }
  });

  it('refusals answer the JSON envelope instead of a stream', async () => {
    h = await harness();
    for (const [path, code] of [
      ['/watch_task_status/99/2/', 3540400],
      ['/watch_task_status/30/4/', 3540100],
    ] as const) {
      const r = await send(h.base, 'GET', path, { query: qs(ALPHA) });
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.json).toMatchObject({ result: false, code });
    }
    const r = await send(h.base, 'GET', '/watch_task_status/10/2/', { query: `${qs(ALPHA)}&subprocess_id=nope` });
    expect(r.json).toMatchObject({ result: false, code: 3540400 });
  });

  it('sends a keep-alive comment every heartbeatMs, and closing the server ends open streams', async () => {
    // Only the interval is faked: sockets and the rest of the event loop run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      h = await harness({ watch: { heartbeatMs: 15_000 } });
      const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
      await s.next();
      // After each step a change goes through: anything written before it has arrived by then.
      const steps: [number, () => unknown, number][] = [
        [14_999, () => h!.engine.start('10', 'root'), 0],
        [1, () => h!.engine.start('10', 'a'), 1],
        [15_000, () => h!.engine.finish('10', 'a'), 2],
      ];
      for (const [ms, change, comments] of steps) {
        vi.advanceTimersByTime(ms);
        change();
        expect((await s.next()).event).toBe('change');
        expect(s.comments).toBe(comments);
      }
      const closing = h.close();
      await s.closed;
      await closing;
      h = undefined;
      // ended by the server (the body was terminated), not dropped; and its heartbeat is gone
      expect(s.res.complete).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  /**
   * Drives a paused watcher: a batch of changes, then the watch clock moved by half the stall
   * limit, until the server has cut the stream (kernel socket buffers absorb the first megabytes,
   * so it takes some batches) or `batches` run out. Returns whether it was cut. The server's own
   * watcher count tells: a paused client does not see its connection close until it reads again.
   */
  async function stallUntilCut(on: Harness, s: Stream, batch: () => void, clock: { now: number }, batches: number): Promise<boolean> {
    s.res.pause();
    for (let b = 0; b < batches; b++) {
      batch();
      clock.now += 30_000;
      if ((await watchers(on)) === 0) return true;
    }
    return false;
  }

  it('a watcher that takes nothing for stallTimeoutMs while changes wait for it is disconnected, and resumes from its cursor', async () => {
    const engine = createEngine({ rerunLimit: 1_000_000 });
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
    engine.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    engine.start('10', 'root');
    engine.start('10', 'a');
    const clock = { now: 0 };
    // The log keeps every change of the run, so the stream stalls on changes, never on a re-sent
    // status; failures carry 10 KB of ex_data each, so a few batches fill the socket buffers.
    const ex_data = 'x'.repeat(10_000);
    const failures = (): void => {
      for (let i = 0; i < 100; i++) {
        engine.fail('10', 'a', { ex_data });
        engine.retry('10', 'a');
        engine.start('10', 'a');
      }
    };
    h = await harness(
      {
        watch: { heartbeatMs: 5, stallTimeoutMs: 60_000, highWaterBytes: 1 << 20, now: () => clock.now },
        retention: { maxEvents: 1_000_000 },
      },
      engine,
    );
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s.next();
    // cut by the server while the client still reads nothing
    expect(await stallUntilCut(h, s, failures, clock, 300)).toBe(true);
    expect(s.res.complete).toBe(false);
    // What reached the client before the cut is whole events; it resumes after the last of them.
    s.res.resume();
    await s.closed;
    let last: string | undefined;
    while (s.pending > 0) last = (await s.next()).id;
    expect(Number(last)).toBeGreaterThan(0);
    const again = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`, { 'Last-Event-ID': last! });
    const next = await again.next();
    expect(next.event).toBe('change');
    expect(Number(next.id)).toBe(Number(last) + 1);
    again.drop();
  });

  it('a watcher that fell out of the change log and takes nothing while its status is re-sent is cut by the same clock', async () => {
    // 1,000 nodes: a status of about 300 KB, re-sent after every batch.
    const { engine } = bigTask(20, 50);
    const clock = { now: 0 };
    // A log of one change: the paused watcher falls out of it at every batch and is re-sent its
    // status (after a `reset`), so the socket fills inside one of those re-sends.
    h = await harness({ watch: { heartbeatMs: 5, stallTimeoutMs: 60_000, now: () => clock.now }, retention: { maxEvents: 1 } }, engine);
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s.next();
    const loops = (): void => {
      for (let i = 0; i < 10; i++) {
        engine.finish('10', 'n0x0');
        engine.reenter('10', 'n0x0');
      }
    };
    expect(await stallUntilCut(h, s, loops, clock, 300)).toBe(true);
    s.res.resume();
    await s.closed;
    const events = new Set<string>();
    while (s.pending > 0) events.add((await s.next()).event);
    expect(events).toContain('reset');
  });

  it("a deleted task's streams get its last changes, then task_deleted, then their end; other tasks' streams go on", async () => {
    h = await harness();
    const deleted = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    const { id: otherId } = h.engine.createTask({ project_id: '1', name: 'other', pipeline: PIPELINE });
    const other = await watch(`${h.base}/watch_task_status/${otherId}/2/?${qs(ALPHA)}`);
    await deleted.next();
    await other.next();
    h.engine.start('10', 'root');
    const [revoked] = h.engine.revoke('10', 'root');
    const gone = h.engine.deleteTask('10');
    h.engine.start(otherId, 'root');
    const [start, revoke, end] = await deleted.take(3);
    expect([start.event, revoke.event, end.event]).toEqual(['change', 'change', 'task_deleted']);
    expect(data(revoke)).toMatchObject({ cursor: revoked.seq, to: 'REVOKED' });
    expect(data(end)).toEqual({ cursor: gone.seq, task_id: '10', at: new Date(gone.at).toISOString() });
    await deleted.closed;
    // ended by the server (the body was terminated), not dropped
    expect(deleted.res.complete).toBe(true);
    expect(data(await other.next())).toMatchObject({ task_id: otherId, node_id: 'root', to: 'RUNNING' });
    expect(await watchers(h)).toBe(1);
    other.drop();
  });

  it('listeners are removed when a watcher goes away', async () => {
    h = await harness();
    const s = await watch(`${h.base}/watch_task_status/10/2/?${qs(ALPHA)}`);
    await s.next();
    expect((await send(h.base, 'GET', '/healthz')).json!.data).toMatchObject({ watchers: 1 });
    s.drop();
    await s.closed;
    expect(await watchersAfterClose(h)).toBe(0);
    // and a change now reaches no one: nothing throws, the engine goes on
    expect(h.engine.start('10', 'root')).toHaveLength(1);
  });
});

describe('the change log', () => {
  it('keeps at most maxEvents changes and none older than maxAgeMs', () => {
    const engine = seededEngine();
    let now = 0;
    const log = new ChangeLog(engine, { maxEvents: 3, maxAgeMs: 1000, now: () => now });
    expect(log.since(0)).toEqual([]);
    const seqs = ['root', 'a', 'sub', 'd'].map((n) => engine.start('10', n)[0].seq);
    // 4 changes, 3 kept: the first is gone
    expect(log.since(0)).toBeUndefined();
    expect(log.since(seqs[0] - 1)).toBeUndefined();
    expect(log.since(seqs[0])!.map((c) => c.nodeId)).toEqual(['a', 'sub', 'd']);
    expect(log.since(seqs[2])!.map((c) => c.nodeId)).toEqual(['d']);
    expect(log.since(seqs[3])).toEqual([]);
    expect(log.since(seqs[3] + 1)).toBeUndefined();
    now = 1001;
    expect(log.since(seqs[3])).toEqual([]);
    expect(log.since(seqs[2])).toBeUndefined();
    log.close();
  });

  it('changes from before the log started are not claimed to be retained', () => {
    const engine = seededEngine();
    engine.start('10', 'root');
    const before = engine.start('10', 'a')[0].seq;
    const log = new ChangeLog(engine);
    const first = engine.start('10', 'sub')[0].seq;
    expect(log.since(before - 1)).toBeUndefined();
    expect(log.since(before)!.map((c) => c.seq)).toEqual([first]);
    expect(log.since(0)!.map((c) => c.seq)).toEqual([first]);
    log.close();
  });
});
