/**
 * The HTTP service over a journal: commands answer only once their change is durable, a write
 * the journal fails is answered 3599999 and undone, watchers see only durable changes and
 * resume across a restart, /healthz says where state is kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/api/engine.js';
import { openEngine } from '../../src/api/durable-engine.js';
import { ChangeLog } from '../../src/api/http/change-log.js';
import { withStoredAnswers } from '../../src/api/http/stored-port.js';
import { DEFAULT_DURABILITY, Durability } from '../../src/store/journal/index.js';
import { ManualTimers } from '../journal/manual-timers.js';
import { MemoryPort } from '../journal/memory-port.js';
import { settled } from '../journal/helpers.js';
import { ESB, OPS, PIPELINE, harness, send, seededEngine } from './helpers.js';

async function journaled() {
  const port = new MemoryPort();
  const timers = new ManualTimers();
  let now = Date.UTC(2024, 0, 1, 4, 0, 0);
  const engine = new Engine({ clock: () => (now += 1000) });
  await Durability.open(engine, port, engine.clock, { ...DEFAULT_DURABILITY, mode: 'always', timers, log: () => {} });
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  engine.createTask({ id: '10', project_id: '1', name: 'task ten', pipeline: PIPELINE });
  timers.advance(0);
  await settled();
  port.auto = false;
  return { engine, port, timers };
}

/** Resolves with whether `p` has settled after the event loop has had every chance to run. */
async function hasSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 20; i++) await settled();
  return done;
}

const nodeEvent = (base: string, event: string, node = 'root') =>
  send(base, 'POST', ESB('node_event'), { body: { ...OPS, bk_biz_id: '2', task_id: '10', node_id: node, event } });

describe('commands over a journal', () => {
  it('answer only once their change is durable', async () => {
    const { engine, port, timers } = await journaled();
    const h = await harness({}, engine);
    try {
      const reply = nodeEvent(h.base, 'start');
      expect(await hasSettled(reply)).toBe(false);
      expect(engine.snapshot().getNode('10', 'root')!.state).toBe('RUNNING'); // applied in memory at once
      timers.advance(0);
      expect(await hasSettled(reply)).toBe(false); // being written
      port.settle();
      const r = await reply;
      expect(r.json).toMatchObject({ result: true, code: 0, data: { state: 'RUNNING', cursor: 2 } });
      // A query does not wait for the journal.
      const status = await send(h.base, 'GET', ESB('get_task_status'), {
        query: new URLSearchParams({ ...OPS, bk_biz_id: '2', task_id: '10' }).toString(),
      });
      expect(status.json).toMatchObject({ result: true, data: { state: 'RUNNING' } });
    } finally {
      await h.close();
    }
  });

  it('a change the journal cannot write is answered 3599999, undone, and refused until the journal is back', async () => {
    const { engine, port, timers } = await journaled();
    const h = await harness({}, engine);
    try {
      const reply = nodeEvent(h.base, 'start');
      await hasSettled(reply);
      timers.advance(0);
      port.failWith = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
      port.settle();
      const r = await reply;
      expect(r.status).toBe(500);
      expect(r.json).toMatchObject({ result: false, code: 3599999, message: 'journal unavailable: an I/O error', data: null });
      expect(engine.snapshot().getNode('10', 'root')!.state).toBe('CREATED');
      const refused = await nodeEvent(h.base, 'start');
      expect(refused.json).toMatchObject({ result: false, code: 3599999, message: 'journal unavailable: an I/O error' });
      const health = await send(h.base, 'GET', '/healthz');
      expect(health.json!.data).toMatchObject({ status: 'read-only', storage: 'memory', durability: 'always', journal: 'an I/O error' });
      // A command the lifecycle refuses is refused as such: the journal is asked only for accepted changes.
      const operate = await send(h.base, 'POST', ESB('operate_task'), { body: { ...OPS, bk_biz_id: '2', task_id: '10', action: 'pause' } });
      expect(operate.json).toMatchObject({ code: 3545000 });
    } finally {
      await h.close();
    }
  });

  it('watchers hear a change only once it is durable', async () => {
    const { engine, port, timers } = await journaled();
    const log = new ChangeLog(engine);
    engine.start('10', 'root');
    expect(log.since(0)).toEqual([]);
    timers.advance(0);
    port.settle();
    await settled();
    expect(log.since(0)!.map((c) => [c.seq, c.nodeId, c.to])).toEqual([[2, 'root', 'RUNNING']]);
    log.close();
  });
});

describe('/healthz', () => {
  it('says when state is in memory only', async () => {
    const h = await harness({}, seededEngine());
    try {
      const r = await send(h.base, 'GET', '/healthz');
      expect(r.json!.data).toEqual({ status: 'ok', storage: 'memory (nothing survives a restart)', tasks: 2, watchers: 0 });
    } finally {
      await h.close();
    }
  });
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('across a restart', () => {
  it('a watcher resumes from its cursor with no gap, and cursors continue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipestate-http-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const first = await openEngine({ dataDir, log: () => {} });
    first.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
    first.createTask({ id: '10', project_id: '1', name: 'task ten', pipeline: PIPELINE });
    const [root] = first.start('10', 'root');
    first.start('10', 'a');
    first.start('10', 'sub');
    await first.close();
    await first.close(); // once is enough; twice does no harm
    expect(() => first.start('10', 'd')).toThrow('journal unavailable: the engine is closed');

    const second = await openEngine({ dataDir, log: () => {} });
    const h = await harness({}, withStoredAnswers(second) as unknown as Engine);
    try {
      const log = h.server.handler.changes;
      expect(log.since(root.seq)!.map((c) => [c.seq, c.nodeId])).toEqual([
        [3, 'a'],
        [4, 'sub'],
      ]);
      const r = await nodeEvent(h.base, 'start', 'd');
      expect(r.json).toMatchObject({ result: true, data: { cursor: 5 } });
      expect(log.since(root.seq)!.map((c) => c.seq)).toEqual([3, 4, 5]);
      const health = await send(h.base, 'GET', '/healthz');
      expect(health.json!.data).toEqual({ status: 'ok', storage: dataDir, durability: 'batch', journal: 'ok', tasks: 1, watchers: 0 });
    } finally {
      await h.close();
      await second.close();
    }
  });
});
