/** Malformed, oversized and slow requests; tracing; internal errors never leak. */
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { traceIdOf } from '../../src/api/http/trace.js';
import { ALPHA, ENVELOPE_KEYS, ESB, harness, qs, seededEngine, send, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Writes raw bytes and reads until the server closes the connection. */
async function raw(base: string, chunks: readonly string[], keepOpen = true): Promise<string> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  for (const c of chunks) socket.write(c);
  if (!keepOpen) socket.end();
  const got: Buffer[] = [];
  socket.on('data', (d: Buffer) => got.push(d));
  await once(socket, 'close');
  return Buffer.concat(got).toString('utf8');
}

const bodyOf = (response: string): Record<string, unknown> =>
  JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('malformed bodies', () => {
  const bodies: [string, string | Buffer, RegExp][] = [
    ['truncated JSON', '{"bk_biz_id": "2", ', /not valid JSON/],
    ['not JSON at all', 'bk_biz_id=2&task_id=10 but not form encoded', /not valid JSON/],
    ['a JSON array', '[1, 2]', /JSON object/],
    ['JSON null', 'null', /JSON object/],
    ['a JSON string', '"x"', /JSON object/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid JSON/],
  ];
  for (const [what, body, message] of bodies) {
    it(`${what} → 3540000`, async () => {
      h = await harness();
      const before = h.engine.snapshot();
      const r = await send(h.base, 'POST', '/operate_task/10/2/', { body, query: qs(ALPHA) });
      expect(r.status).toBe(200);
      expect(Object.keys(r.json!)).toEqual(ENVELOPE_KEYS);
      expect(r.json).toMatchObject({ result: false, code: 3540000 });
      expect(r.json!.message).toMatch(message);
      expect(h.engine.snapshot()).toBe(before);
    });
  }

  it('an empty body is an empty object; a form-encoded body is read like a query string', async () => {
    h = await harness();
    h.engine.start('10', 'root');
    const empty = await send(h.base, 'POST', ESB('get_task_status'), { query: `${qs(ALPHA)}&bk_biz_id=2&task_id=10`, body: '' });
    expect(empty.json!.result).toBe(true);
    const form = await send(h.base, 'POST', '/operate_task/10/2/', {
      body: `${qs(ALPHA)}&action=pause`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(form.json!.result).toBe(true);
  });

  it('"__proto__" in a body or query is an ordinary key and pollutes nothing', async () => {
    h = await harness();
    const body = await send(h.base, 'POST', ESB('get_task_status'), {
      body: `{"__proto__": {"polluted": 1, "bk_biz_id": "4", "task_id": "30"}, "bk_biz_id": "2", "task_id": "10"}`,
      query: qs(ALPHA),
    });
    const query = await send(h.base, 'GET', ESB('get_task_status'), {
      query: `${qs(ALPHA)}&__proto__=x&constructor=y&bk_biz_id=2&task_id=10`,
    });
    // both answered as plain requests for task 10: the prototype key supplied no field
    for (const r of [body, query]) {
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ result: true, code: 0, data: { id: 'root', name: 'task ten', state: 'CREATED' } });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('bk_biz_id');
  });

  it('the app secret is removed before the parameters reach the engine', async () => {
    const engine = seededEngine();
    const seen: unknown[] = [];
    const original = engine.getTaskStatusSliced.bind(engine);
    Object.assign(engine, {
      getTaskStatusSliced: (request: unknown, ctx?: Parameters<typeof original>[1]) => (seen.push(request), original(request, ctx)),
    });
    h = await harness({}, engine);
    await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ bk_app_code: 'alpha', bk_username: 'alice', task_id: '10', bk_biz_id: '2' });
    expect(seen[0]).not.toHaveProperty('bk_app_secret');
  });
});

describe('size limit', () => {
  it('a declared Content-Length over the limit → 413, before the body is read', async () => {
    h = await harness({ bodyLimitBytes: 1024 });
    const r = await send(h.base, 'POST', '/operate_task/10/2/', { body: { ...ALPHA, action: 'pause', pad: 'x'.repeat(2000) } });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(r.json).toMatchObject({ result: false, code: 3540000, data: null });
    expect(r.json!.message).toMatch(/1024 bytes/);
  });

  it('a chunked body that grows over the limit → 413', async () => {
    h = await harness({ bodyLimitBytes: 1024 });
    const before = h.engine.snapshot();
    const response = await raw(h.base, [
      'POST /operate_task/10/2/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      ...Array.from({ length: 4 }, () => `200\r\n${' '.repeat(0x200)}\r\n`),
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000 });
    expect(h.engine.snapshot()).toBe(before);
  });
});

describe('slow clients', () => {
  it('a body that stalls is answered 408 when the body deadline passes', async () => {
    h = await harness({ bodyTimeoutMs: 100 });
    const response = await raw(h.base, ['POST /operate_task/10/2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"act']);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000 });
    expect(String(bodyOf(response).message)).toMatch(/not received within 100 ms/);
  });

  it('headers that stall are answered 408 with the envelope, and the socket closed', async () => {
    h = await harness({ headersTimeoutMs: 200, requestTimeoutMs: 200 });
    const response = await raw(h.base, ['GET /healthz HTTP/1.1\r\nHost: x\r\n']);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(Object.keys(bodyOf(response))).toEqual(ENVELOPE_KEYS);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000 });
  });

  it('a request that is not HTTP is answered 400 with the envelope', async () => {
    h = await harness();
    const response = await raw(h.base, ['HELLO THERE\r\n\r\n'], false);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000 });
  });
});

describe('trace context', () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  it('a valid traceparent sets trace_id; an invalid one is ignored', async () => {
    h = await harness();
    const traced = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA), headers: { traceparent: valid } });
    expect(traced.json!.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const refused = await send(h.base, 'GET', '/get_task_status/99/2/', { query: qs(ALPHA), headers: { traceparent: valid } });
    expect(refused.json!.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const bad = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA), headers: { traceparent: 'garbage' } });
    expect(bad.json!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(bad.json!.trace_id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('traceIdOf follows the W3C format', () => {
    expect(traceIdOf(valid)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(` ${valid} `)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra`)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of [
      undefined,
      '',
      [valid, valid] as unknown as string,
      `${valid}-extra`,
      valid.toUpperCase(),
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    ])
      expect(traceIdOf(bad), String(bad)).toBeUndefined();
  });
});

describe('internal errors', () => {
  it('are logged with the request id and answered 3599999 without their message or stack', async () => {
    const engine = seededEngine();
    Object.assign(engine, {
      // what the service calls for get_task_status: sliced work that fails after a checkpoint
      *getTaskStatusSliced() {
        yield;
        throw new Error('database password hunter2 at /srv/secret/path.ts:12');
      },
    });
    h = await harness({}, engine);
    const r = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) });
    expect(r.status).toBe(500);
    expect(Object.keys(r.json!)).toEqual(ENVELOPE_KEYS);
    expect(r.json).toMatchObject({ result: false, code: 3599999, message: 'unexpected error', data: null });
    expect(r.text).not.toMatch(/hunter2|secret|\.ts|at /);
    expect(h.logged).toHaveLength(1);
    expect(String((h.logged[0] as { message: string }).message)).toContain(String(r.json!.request_id));
  });
});
