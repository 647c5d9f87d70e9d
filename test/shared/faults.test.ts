/**
 * The database lost while running (issue 11): between the instance and PostgreSQL sits a TCP
 * proxy the test can cut. While it is cut, commands are refused with 3599999 "journal
 * unavailable" and change nothing in memory, queries answer from memory with a header saying how
 * stale they are, and once the database is back the instance reconnects (retries driven by
 * injected timers) and commands are accepted again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSharedEngine, type SharedEngine } from '../../src/api/shared-engine.js';
import { ManualTimers } from '../journal/manual-timers.js';
import { DATABASE_URL, dropSchema, newSchemaName, requirePostgres } from './pg.js';
import { PIPELINE, PROJECT } from './helpers.js';

/** A proxy to the real server that can drop every connection and refuse new ones. */
class Cuttable {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(DATABASE_URL);
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  get url(): string {
    const u = new URL(DATABASE_URL);
    u.port = String(this.port);
    u.hostname = '127.0.0.1';
    return u.toString();
  }
}

const schema = newSchemaName();
const proxy = new Cuttable();
const timers = new ManualTimers();
let engine: SharedEngine;
const logged: string[] = [];

/** Lets I/O happen until `done` holds (bounded by 10 s of real time: a test never hangs on it). */
async function until(done: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!done() && performance.now() < end) await new Promise((resolve) => setImmediate(resolve));
  if (!done())
    throw new Error(
      `never happened: ${what} (${JSON.stringify(engine.status())}; pending timers ${timers.pending}; ${logged.join(' | ')})`,
    );
}

beforeAll(async () => {
  await requirePostgres();
  await proxy.up();
});

// in the test's own time: engine work outside a test makes a mutation run re-run every test for
// each mutant it reached (docs/testing.md)
beforeEach(async () => {
  engine = await openSharedEngine({ databaseUrl: proxy.url, schema, poolSize: 2, journalTimers: timers, log: (m) => logged.push(m) });
  await engine.ensureProject(PROJECT);
});

afterAll(async () => {
  await proxy.up().catch(() => undefined);
  await engine?.close();
  await proxy.down();
  await dropSchema(schema);
});

describe('the database lost while running', () => {
  it('refuses commands clearly, answers queries from memory saying how stale, and comes back', async () => {
    const task = await engine.createTask({ project_id: '1', name: 'lost', pipeline: PIPELINE });
    await engine.start(task.id, 'root');
    const before = engine.snapshot();
    const port = engine.httpPort();

    await proxy.down();
    await until(() => engine.status().journal !== 'ok', 'the instance noticing the lost connection');
    expect(engine.status().journal).toBe('the connection to the database was lost');

    await expect(engine.start(task.id, 'a')).rejects.toMatchObject({
      code: 3599999,
      message: 'journal unavailable: the connection to the database was lost',
    });
    const refused = await engine.operateTask({ bk_biz_id: '2', task_id: task.id, action: 'pause' });
    expect(refused).toMatchObject({ result: false, code: 3599999 });
    expect(engine.snapshot().getNode(task.id, 'a')).toEqual(before.getNode(task.id, 'a'));
    expect(engine.snapshot().getNode(task.id, 'root')).toEqual(before.getNode(task.id, 'root'));

    const answer = await engine.getTaskStatus({ bk_biz_id: '2', task_id: task.id });
    expect(answer).toMatchObject({ result: true, data: { state: 'RUNNING' } });
    timers.advance(250);
    const headers = port.answerHeaders!();
    expect(headers.get('X-Pipestate-Stale-Ms')).toBe('250');
    expect(headers.get('X-Pipestate-Cursor')).toBe(String(engine.cursor));

    // Retries (every 100, 200, 400 … ms of the injected timers) fail while the database stays away.
    for (let k = 0; k < 5; k++) {
      timers.advance(1_000);
      await until(() => false, 'nothing', 20).catch(() => undefined);
    }
    expect(engine.status().journal).not.toBe('ok');
    expect(logged.filter((m) => /cannot be read/.test(m))).toHaveLength(1);

    await proxy.up();
    await until(() => {
      timers.advance(1_000);
      return engine.status().journal === 'ok';
    }, 'the instance reading the journal again');
    expect(logged.some((m) => /readable again/.test(m))).toBe(true);
    const [change] = await engine.start(task.id, 'a');
    expect(change).toMatchObject({ nodeId: 'a', to: 'RUNNING' });
    expect(port.answerHeaders!().has('X-Pipestate-Stale-Ms')).toBe(false);
  });
});
