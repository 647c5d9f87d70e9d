/**
 * Cheap refusal of anonymous work, per-route body limits, and large definitions parsed off the
 * event loop.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { scanForm, scanJson, DEFAULT_SCAN } from '../../src/api/http/credential-scan.js';
import type { NodeDefinition } from '../../src/model/index.js';
import { ALPHA, ESB, harness, qs, seededEngine, send, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Sends raw bytes; resolves with what came back once the server answered and closed. */
async function raw(base: string, text: string): Promise<string> {
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  await once(socket, 'connect');
  const got: Buffer[] = [];
  socket.on('data', (d: Buffer) => got.push(d));
  socket.on('error', () => {});
  socket.write(text);
  await once(socket, 'close');
  return Buffer.concat(got).toString('utf8');
}
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('credentials before the body', () => {
  it('wrong credentials in X-Bkapi-Authorization are refused before a byte of the body is read', async () => {
    // A deadline the test would time out on: the answer must not wait for the body.
    h = await harness({ bodyTimeoutMs: 600_000 });
    const response = await raw(
      h.base,
      'POST /operate_task/10/2/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `X-Bkapi-Authorization: ${JSON.stringify({ bk_app_code: 'alpha', bk_app_secret: 'wrong', bk_username: 'x' })}\r\n` +
        'Content-Length: 1000000\r\n\r\n{"action": "pau',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540100 });
  });

  it('so are wrong credentials in the query string', async () => {
    h = await harness({ bodyTimeoutMs: 600_000 });
    const response = await raw(
      h.base,
      `POST /operate_task/10/2/?${qs({ ...ALPHA, bk_app_secret: 'nope' })} HTTP/1.1\r\nHost: x\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{',
    );
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540100 });
  });

  it('a header naming only the user leaves the app credentials to the body', async () => {
    h = await harness();
    const r = await send(h.base, 'POST', '/operate_task/10/2/', {
      body: { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret', action: 'pause' },
      headers: { 'X-Bkapi-Authorization': JSON.stringify({ bk_username: 'alice' }) },
    });
    expect(r.json).toMatchObject({ code: 3545000 }); // authenticated: the lifecycle refuses (the task has not started)
  });
});

describe('anonymous ESB bodies', () => {
  const formKeys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&');
  const jsonKeys = (n: number) => Array.from({ length: n }, (_, i) => `"${i.toString(36)}":1`).join(',');

  it('a 1 MB form of 200,000 keys is refused at the key limit', async () => {
    h = await harness();
    const body = formKeys(200_000);
    expect(body.length).toBeGreaterThan(1_000_000);
    const r = await send(h.base, 'POST', '/operate_task/10/2/', {
      body: body.slice(0, 1_000_000),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(r.json).toMatchObject({ result: false, code: 3540000, message: 'invalid request body: more than 1000 parameters' });
  });

  it('a 1 MB JSON body of 120,000 keys is refused at the key limit', async () => {
    h = await harness();
    const body = `{${jsonKeys(120_000)}}`;
    expect(body.length).toBeLessThan(1 << 20);
    const r = await send(h.base, 'POST', '/operate_task/10/2/', { body });
    expect(r.json).toMatchObject({ result: false, code: 3540000, message: 'invalid request body: more than 1000 parameters' });
  });

  it('an anonymous body under the limits is refused on its credentials, before it is parsed', async () => {
    h = await harness();
    const r = await send(h.base, 'POST', '/operate_task/10/2/', { body: `{${jsonKeys(900)},"deep":${'['.repeat(100)}${']'.repeat(100)}}` });
    expect(r.json).toMatchObject({ result: false, code: 3540100 });
  });

  it('the scan stops at the key limit: what lies beyond is never read', () => {
    // Past key 1,000: credentials that would pass, then nesting that would be refused if reached.
    const json = Buffer.from(
      `{${jsonKeys(1_001)},"bk_app_code":"alpha","bk_app_secret":"alpha-secret","bk_username":"a","x":${'['.repeat(10_000)}}`,
    );
    expect(() => scanJson(json)).toThrow('more than 1000 parameters');
    const form = Buffer.from(`${formKeys(1_001)}&bk_app_code=alpha&bk_app_secret=alpha-secret&bk_username=a`);
    expect(() => scanForm(form)).toThrow('more than 1000 parameters');
    // Under the limit, the credentials are found, and the scan stops there.
    const found = scanJson(Buffer.from(`{"bk_app_code":"alpha","bk_app_secret":"alpha-secret","bk_username":"a",${jsonKeys(50_000)}}`));
    expect(found).toMatchObject({ credentials: { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret', bk_username: 'a' }, keys: 3 });
    expect(found.bytes).toBeLessThan(100);
    expect(() => scanJson(Buffer.from(`{"a":${'{"b":'.repeat(DEFAULT_SCAN.maxDepth + 1)}`))).toThrow(/nested deeper than 4096/);
  });

  it('the scan reads credentials as JSON.parse and URLSearchParams do', () => {
    const obj = {
      'x y': [1, { bk_app_code: 'not top-level' }],
      bk_app_code: 'a\u00e9"\\',
      n: -1.5e3,
      t: true,
      bk_username: 'u',
      bk_app_secret: 's',
    };
    expect(scanJson(Buffer.from(JSON.stringify(obj))).credentials).toEqual({
      bk_app_code: 'a\u00e9"\\',
      bk_username: 'u',
      bk_app_secret: 's',
    });
    const form = new URLSearchParams({ q: 'a&b', bk_app_code: 'é +%', bk_username: 'u' }).toString();
    expect(scanForm(Buffer.from(form)).credentials).toEqual({ bk_app_code: 'é +%', bk_username: 'u' });
  });

  it('a body with its credentials after other keys, under the limit, is served', async () => {
    h = await harness();
    h.engine.start('10', 'root');
    const r = await send(h.base, 'POST', ESB('operate_task'), {
      body: `{${jsonKeys(500)},"bk_biz_id":"2","task_id":"10","action":"pause","bk_app_code":"alpha","bk_app_secret":"alpha-secret","bk_username":"a"}`,
    });
    expect(r.json).toMatchObject({ result: true });
  });

  it('a duplicate key later in the body cannot smuggle other credentials past the scan', async () => {
    h = await harness();
    h.engine.start('10', 'root');
    const r = await send(h.base, 'POST', ESB('operate_task'), {
      body: '{"bk_app_code":"alpha","bk_app_secret":"alpha-secret","bk_username":"a","bk_biz_id":"4","task_id":"30","action":"pause","bk_app_code":"beta"}',
    });
    // JSON.parse keeps the last bk_app_code: beta with alpha's secret is not beta.
    expect(r.json).toMatchObject({ result: false, code: 3540100 });
  });
});

/** A definition of n activities under the root (about 50 bytes of JSON each). */
const wide = (n: number, name = 'step'): NodeDefinition => ({
  id: 'root',
  kind: 'pipeline',
  name: 'wide',
  children: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, kind: 'activity' as const, name })),
});

describe('body limits per route', () => {
  it('create_task takes definitions far past 1 MiB (default 64 MiB); other routes keep 1 MiB', async () => {
    h = await harness();
    const body = { ...ALPHA, bk_biz_id: '2', name: 'big', pipeline: wide(60_000) };
    expect(JSON.stringify(body).length).toBeGreaterThan(2 << 20);
    const created = await send(h.base, 'POST', ESB('create_task'), { body });
    // ids are the service's (tasks 10 and 30 are seeded: the next is 31)
    expect(created.json).toMatchObject({ result: true, data: { task_id: 31 } });
    expect(h.engine.snapshot().getTask('31')!.definition.size).toBe(60_001);
    const other = await send(h.base, 'POST', ESB('operate_task'), {
      body: { ...ALPHA, bk_biz_id: '2', task_id: '10', action: 'pause', pad: 'x'.repeat(1 << 20) },
    });
    expect(other.status).toBe(413);
    expect(other.json!.message).toMatch(/1048576 bytes/);
  });

  it('definitionLimitBytes bounds create_task', async () => {
    h = await harness({ definitionLimitBytes: 100_000 });
    const r = await send(h.base, 'POST', ESB('create_task'), { body: { ...ALPHA, bk_biz_id: '2', name: 'big', pipeline: wide(5_000) } });
    expect(r.status).toBe(413);
    expect(r.json!.message).toMatch(/100000 bytes/);
  });

  it('an anonymous create_task is refused on the first 1 MiB, without reading the rest of its 5 MB', async () => {
    h = await harness({ bodyTimeoutMs: 600_000 });
    const head = JSON.stringify({
      bk_app_code: 'alpha',
      bk_app_secret: 'wrong',
      bk_username: 'x',
      bk_biz_id: '2',
      name: 'n',
      pipeline: wide(30_000),
    });
    expect(head.length).toBeGreaterThan(1 << 20);
    // Declares 5 MB and sends only the first ~1 MB: the refusal cannot wait for the rest.
    const response = await raw(
      h.base,
      `POST ${ESB('create_task')} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n${head}`,
    );
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540100 });
  });
});

describe('large definitions', () => {
  it('are parsed and compiled off the event loop: a probe is answered while a 10^5-node definition is being read', async () => {
    h = await harness();
    const body = { ...ALPHA, bk_biz_id: '2', name: 'huge', pipeline: wide(100_000) };
    const created = send(h.base, 'POST', ESB('create_task'), { body });
    const { definitions } = h.server.handler.intake;
    while (definitions.pending === 0) await new Promise((r) => setImmediate(r));
    const probe = await send(h.base, 'GET', '/healthz');
    expect(probe.json).toMatchObject({ result: true, data: { tasks: 2 } });
    expect((await created).json).toMatchObject({ result: true, data: { task_id: 31, project_id: '1' } });
    const status = await send(h.base, 'GET', '/get_task_status/31/2/', { query: qs(ALPHA) });
    expect(status.json).toMatchObject({ result: true, data: { id: 'root', name: 'huge', state: 'CREATED' } });
  });

  it('a wrong one is refused in the words the store uses, the store unchanged', async () => {
    h = await harness();
    const before = h.engine.snapshot();
    const pipeline = wide(5_000);
    (pipeline.children![4321] as { kind: string }).kind = 'robot';
    const r = await send(h.base, 'POST', ESB('create_task'), { body: { ...ALPHA, bk_biz_id: '2', name: 'bad', pipeline } });
    expect(r.json).toMatchObject({ result: false, code: 3540000 });
    expect(r.json!.message).toMatch(
      /^invalid pipeline of task 31: node "n4321" \(pipeline\.children\[4321\]\) field kind: must be one of /,
    );
    // word for word what the store says in process
    const inProcess = seededEngine();
    expect(() => inProcess.createTask({ id: '31', project_id: '1', name: 'bad', pipeline })).toThrow(r.json!.message as string);
    expect(h.engine.snapshot()).toBe(before);
    const broken = await send(h.base, 'POST', ESB('create_task'), {
      body: `${JSON.stringify({ ...ALPHA, bk_biz_id: '2', name: 'x', pipeline: wide(5_000) }).slice(0, -2)}`,
    });
    expect(broken.json).toMatchObject({ result: false, code: 3540000, message: 'request body is not valid JSON' });
  });
});

describe('malformed requests', () => {
  it('a body still arriving when the request deadline passes: 408, not "malformed"', async () => {
    h = await harness({ headersTimeoutMs: 200, requestTimeoutMs: 300, bodyTimeoutMs: 600_000 });
    const response = await raw(
      h.base,
      `POST /operate_task/10/2/?${qs(ALPHA)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"act`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000, message: 'request not received in time' });
  });

  for (const [what, chunks] of [
    ['a chunk size that is not hex', 'zz\r\nabc\r\n0\r\n\r\n'],
    ['a chunk longer than announced', '3\r\nabcXX0\r\n\r\n'],
  ] as const) {
    it(`${what}: answered 400 in the envelope, then the connection closes`, async () => {
      h = await harness({ bodyTimeoutMs: 600_000 });
      const response = await raw(
        h.base,
        `POST /operate_task/10/2/?${qs(ALPHA)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(response)).toMatchObject({ result: false, code: 3540000, message: expect.stringMatching(/malformed/) });
    });
  }
});
