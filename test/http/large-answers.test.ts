/**
 * Large answers over loopback: built and written in slices, as fast as the client reads, through
 * the admission queue; the bytes are exactly JSON.stringify's of the envelope.
 */
import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/api/http/server.js';
import { ALPHA, ESB, harness, qs, send, type Harness } from './helpers.js';
import { bigTask } from './big-task.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${TRACE}-00f067aa0ba902b7-01`;

/** A GET whose body the test reads when it chooses: paused as soon as the headers arrive. */
interface Paused {
  readonly res: IncomingMessage;
  /** resumes and reads to the end */
  body(): Promise<string>;
}
function pausedGet(url: string): Promise<Paused> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { traceparent } }, (res) => {
      res.pause();
      resolve({
        res,
        body: async () => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.resume();
          await once(res, 'end');
          return Buffer.concat(chunks).toString('utf8');
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The server side of the next request the harness receives. */
function nextServerResponse(h: Harness): Promise<ServerResponse> {
  return new Promise((resolve) => h.server.once('request', (_req: IncomingMessage, res: ServerResponse) => resolve(res)));
}

/** Turns of the event loop until `done` holds (the server runs in this process). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !done(); i++) await tick();
  expect(done()).toBe(true);
}

async function bigHarness(subs: number, leaves: number, options: ServerOptions = {}) {
  const t = bigTask(subs, leaves);
  h = await harness(options, t.engine);
  return { t, h };
}

const url = (h: Harness) => `${h.base}/get_task_status/10/2/?${qs(ALPHA)}`;

describe('large answers', () => {
  it('are the exact bytes of JSON.stringify of the envelope, sent in chunks; small ones keep a Content-Length', async () => {
    const { t, h } = await bigHarness(10, 300); // ~3,000 nodes, ~900 KB
    const r = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA), headers: { traceparent } });
    const expected = JSON.stringify(
      t.engine.getTaskStatus(
        { ...ALPHA, task_id: '10', bk_biz_id: '2' },
        { request_id: String(r.headers['x-request-id']), trace_id: TRACE },
      ),
    );
    expect(r.text.length).toBeGreaterThan(500_000);
    expect(r.text).toBe(expected);
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const small = await send(h.base, 'GET', '/get_task_status/10/2/', { query: `${qs(ALPHA)}&subprocess_id=n0x1` });
    expect(small.headers['content-length']).toBe(String(Buffer.byteLength(small.text)));
    expect(small.json).toMatchObject({ result: true, data: { id: 'n0x1' } });
  });

  it('are built between other requests: a probe is answered before the large answer even starts', async () => {
    // budget 0: one checkpoint per turn of the event loop, so building the answer takes many turns
    const { h } = await bigHarness(20, 500, { slicer: { budgetMs: 0 } });
    const arrived = nextServerResponse(h);
    const big = pausedGet(url(h));
    const serverSide = await arrived;
    const probe = await send(h.base, 'GET', '/healthz');
    expect(probe.json).toMatchObject({ result: true });
    expect(serverSide.headersSent).toBe(false);
    await (await big).body();
  });

  it('a reader that stops reading holds back its own answer, not the server: others are served, and the answer it gets is of its snapshot', async () => {
    const { t, h } = await bigHarness(40, 1000, { admission: { concurrency: 1, queue: 0 } }); // ~40,000 nodes, ~12 MB
    const expected = (requestId: string) =>
      JSON.stringify(t.engine.getTaskStatus({ ...ALPHA, task_id: '10', bk_biz_id: '2' }, { request_id: requestId, trace_id: TRACE }));
    const arrived = nextServerResponse(h);
    const big = await pausedGet(url(h));
    const serverSide = await arrived;
    const before = expected(String(big.res.headers['x-request-id']));
    // The answer waits for the reader: it is not ended, and what the server holds for it is bounded.
    await until(() => h.server.handler.slicer.pending === 0);
    expect(serverSide.writableEnded).toBe(false);
    expect(serverSide.writableLength).toBeLessThan(256 * 1024);
    // Meanwhile the service answers others, and the task moves on.
    expect((await send(h.base, 'GET', '/healthz')).json).toMatchObject({ result: true });
    const moved = await send(h.base, 'POST', ESB('node_event'), {
      body: { ...ALPHA, bk_biz_id: '2', task_id: '10', node_id: 'n3x3', event: 'finish' },
    });
    expect(moved.json).toMatchObject({ result: true, data: { state: 'FINISHED' } });
    // The one place is taken: a second large read is told to come back later.
    const refused = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json).toMatchObject({ result: false, code: 3599999, data: null });
    expect(refused.json!.message).toMatch(/busy.*retry after 1 s/);
    // The paused reader gets its whole answer, as of the snapshot it started from.
    const body = await big.body();
    expect(body.length).toBeGreaterThan(10_000_000);
    expect(body).toBe(before);
    expect(body).not.toBe(expected(String(big.res.headers['x-request-id'])));
  });

  it('queued reads wait their turn; past the queue, 503', async () => {
    const { h } = await bigHarness(40, 1000, { admission: { concurrency: 1, queue: 1 } });
    const first = await pausedGet(url(h));
    await until(() => h.server.handler.slicer.pending === 0 && h.server.handler.admission.inProgress === 1);
    const second = pausedGet(url(h));
    await until(() => h.server.handler.admission.queued === 1);
    const third = await send(h.base, 'GET', ESB('get_task_node_detail'), { query: `${qs(ALPHA)}&bk_biz_id=2&task_id=10&node_id=s1` });
    expect(third.status).toBe(503);
    const a = await first.body();
    const b = await (await second).body();
    expect(JSON.parse(a).data.children.s39.children.n39x999.state).toBe('RUNNING');
    expect(JSON.parse(b).result).toBe(true);
    expect(h.server.handler.admission.inProgress).toBe(0);
  });

  it('a reader that reads nothing for answerStallMs is disconnected and frees its place', async () => {
    const { h } = await bigHarness(40, 1000, { admission: { concurrency: 1, queue: 0 }, answerStallMs: 50 });
    const arrived = nextServerResponse(h);
    await pausedGet(url(h));
    const serverSide = await arrived;
    await once(serverSide, 'close');
    expect(serverSide.writableFinished).toBe(false);
    await until(() => h.server.handler.admission.inProgress === 0);
    const again = await send(h.base, 'GET', '/get_task_status/10/2/', { query: `${qs(ALPHA)}&subprocess_id=s1` });
    expect(again.json).toMatchObject({ result: true });
  });
});

describe('HEAD', () => {
  it('answers wherever GET does: the same status and headers, no body', async () => {
    const { h } = await bigHarness(10, 300);
    for (const path of [
      '/healthz',
      '/metrics',
      `/get_task_status/10/2/?${qs(ALPHA)}&subprocess_id=s1`,
      `/get_task_status/10/2/?${qs(ALPHA)}`,
      `${ESB('get_task_node_detail')}?${qs(ALPHA)}&bk_biz_id=2&task_id=10&node_id=s2`,
      `/get_task_status/99/2/?${qs(ALPHA)}`,
    ]) {
      const get = await send(h.base, 'GET', path);
      const head = await send(h.base, 'HEAD', path);
      expect(head.status, path).toBe(get.status);
      expect(head.text, path).toBe('');
      for (const name of ['content-type', 'cache-control']) expect(head.headers[name], `${path} ${name}`).toBe(get.headers[name]);
      if (get.headers['content-length'] !== undefined && !path.startsWith('/metrics'))
        expect(head.headers['content-length'], path).toBe(get.headers['content-length']);
    }
  });

  it("on a watch: the stream's headers, no stream; a refused watch answers its envelope headers", async () => {
    const { h } = await bigHarness(2, 3);
    const head = await send(h.base, 'HEAD', '/watch_task_status/10/2/', { query: qs(ALPHA) });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.text).toBe('');
    expect((await send(h.base, 'GET', '/healthz')).json!.data).toMatchObject({ watchers: 0 });
    const refused = await send(h.base, 'HEAD', '/watch_task_status/99/2/', { query: qs(ALPHA) });
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(refused.text).toBe('');
  });
});
