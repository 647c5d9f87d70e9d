/** Every route, in both spellings (ESB and API gateway), against a real server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALPHA, ENVELOPE_KEYS, ESB, harness, qs, send, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.close());

const creds = qs(ALPHA);
const ok = (reply: { status: number; json: Record<string, unknown> | undefined }) => {
  expect(reply.status).toBe(200);
  expect(reply.json && Object.keys(reply.json)).toEqual(ENVELOPE_KEYS);
  expect(reply.json).toMatchObject({ result: true, code: 0, message: '' });
  return reply.json!.data as Record<string, unknown>;
};

describe('get_task_status', () => {
  it('ESB GET with a query string', async () => {
    const data = ok(await send(h.base, 'GET', ESB('get_task_status'), { query: `${creds}&bk_biz_id=2&task_id=10` }));
    expect(data).toMatchObject({ id: 'root', state: 'CREATED', name: 'task ten' });
  });
  it('ESB POST with a JSON body', async () => {
    const data = ok(await send(h.base, 'POST', ESB('get_task_status'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10' } }));
    expect(data.id).toBe('root');
  });
  it('gateway GET /get_task_status/{task_id}/{bk_biz_id}/', async () => {
    h.engine.start('10', 'root');
    h.engine.start('10', 'sub');
    const data = ok(await send(h.base, 'GET', '/get_task_status/10/2/', { query: `${creds}&subprocess_id=sub` }));
    expect(data).toMatchObject({ id: 'sub', state: 'RUNNING' });
  });
  it('the trailing slash is optional', async () => {
    ok(await send(h.base, 'GET', '/get_task_status/10/2', { query: creds }));
    ok(await send(h.base, 'GET', '/api/c/compapi/v2/sops/get_task_status', { query: `${creds}&bk_biz_id=2&task_id=10` }));
  });
  it('credentials may come in the X-Bkapi-Authorization header (gateway style)', async () => {
    const headers = { 'X-Bkapi-Authorization': JSON.stringify(ALPHA) };
    ok(await send(h.base, 'GET', '/get_task_status/10/2/', { headers }));
  });
  it('path parameters win over query and body fields', async () => {
    ok(await send(h.base, 'GET', '/get_task_status/10/2/', { query: `${creds}&bk_biz_id=4&task_id=30` }));
  });
});

describe('get_tasks_status', () => {
  const list = (reply: { status: number; json: Record<string, unknown> | undefined }) => {
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ result: true, code: 0 });
    return { ids: (reply.json!.data as { id: number }[]).map((t) => t.id), message: String(reply.json!.message) };
  };
  it('ESB GET: task_id_list as a comma list or repeated keys', async () => {
    expect(list(await send(h.base, 'GET', ESB('get_tasks_status'), { query: `${creds}&bk_biz_id=2&task_id_list=10` })).ids).toEqual([10]);
    const b = list(
      await send(h.base, 'GET', ESB('get_tasks_status'), { query: `${creds}&bk_biz_id=2&task_id_list=10,30&task_id_list=10` }),
    );
    // task 30 belongs to another project: left out and named, as a missing one would be
    expect(b.ids).toEqual([10]);
    expect(b.message).toMatch(/30/);
  });
  it('ESB POST with a JSON list', async () => {
    expect(
      list(await send(h.base, 'POST', ESB('get_tasks_status'), { body: { ...ALPHA, bk_biz_id: '2', task_id_list: ['10'] } })).ids,
    ).toEqual([10]);
  });
  it('gateway POST /get_tasks_status/{bk_biz_id}/', async () => {
    const r = list(await send(h.base, 'POST', '/get_tasks_status/2/', { body: { ...ALPHA, task_id_list: ['10', '30'] } }));
    expect(r.ids).toEqual([10]);
    expect(r.message).toMatch(/30/);
  });
});

describe('get_task_node_detail', () => {
  it('ESB GET and POST', async () => {
    h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    expect(
      ok(await send(h.base, 'GET', ESB('get_task_node_detail'), { query: `${creds}&bk_biz_id=2&task_id=10&node_id=a` })),
    ).toMatchObject({ id: 'a', state: 'RUNNING' });
    expect(
      ok(await send(h.base, 'POST', ESB('get_task_node_detail'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10', node_id: 'a' } })),
    ).toMatchObject({ id: 'a' });
  });
  it('gateway GET /get_task_node_detail/{task_id}/{bk_biz_id}/', async () => {
    const data = ok(await send(h.base, 'GET', '/get_task_node_detail/10/2/', { query: `${creds}&node_id=a` }));
    expect(data).toMatchObject({ id: 'a', state: 'CREATED', histories: [] });
  });
});

describe('operate_task', () => {
  it('ESB POST pauses; gateway POST /operate_task/{task_id}/{bk_biz_id}/ resumes', async () => {
    h.engine.start('10', 'root');
    ok(await send(h.base, 'POST', ESB('operate_task'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10', action: 'pause' } }));
    expect(h.engine.snapshot().getNode('10', 'root')!.state).toBe('SUSPENDED');
    ok(await send(h.base, 'POST', '/operate_task/10/2/', { body: { ...ALPHA, action: 'resume' } }));
    expect(h.engine.snapshot().getNode('10', 'root')!.state).toBe('RUNNING');
  });
  it('a refusal answers 3545000 and changes nothing', async () => {
    const before = h.engine.snapshot();
    const r = await send(h.base, 'POST', '/operate_task/10/2/', { body: { ...ALPHA, action: 'resume' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ result: false, code: 3545000, data: null });
    expect(h.engine.snapshot()).toBe(before);
  });
});

describe('operate_node', () => {
  it('ESB POST and gateway POST /operate_node/{bk_biz_id}/{task_id}/ (business first, as in bk-sops)', async () => {
    h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    h.engine.fail('10', 'a', { ex_data: 'boom' });
    ok(
      await send(h.base, 'POST', ESB('operate_node'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10', node_id: 'a', action: 'retry' } }),
    );
    expect(h.engine.snapshot().getNode('10', 'a')!.state).toBe('READY');
    h.engine.start('10', 'a');
    h.engine.fail('10', 'a');
    ok(await send(h.base, 'POST', '/operate_node/2/10/', { body: { ...ALPHA, node_id: 'a', action: 'skip' } }));
    expect(h.engine.snapshot().getNode('10', 'a')).toMatchObject({ state: 'FINISHED', skip: true });
  });
});

describe('create_task', () => {
  const pipeline = { id: 'p', kind: 'pipeline', children: [{ id: 'x', kind: 'activity' }] };
  it('ESB POST registers a pipeline in the project of the business, under the next id the service assigns', async () => {
    // tasks 10 and 30 were registered in process: the next id is 31
    const before = h.engine.snapshot().cursor;
    const data = ok(await send(h.base, 'POST', ESB('create_task'), { body: { ...ALPHA, bk_biz_id: '2', name: 'new', pipeline } }));
    // the registration is the engine's next change, and the answer carries its cursor
    expect(h.engine.snapshot().cursor).toBe(before + 1);
    expect(JSON.stringify(data)).toBe(
      JSON.stringify({
        task_id: 31,
        project_id: '1',
        name: 'new',
        created_at: new Date(h.engine.snapshot().getTask('31')!.task.created_at).toISOString(),
        cursor: h.engine.snapshot().cursor,
      }),
    );
    expect(h.engine.snapshot().getTask('31')!.project.id).toBe('1');
  });
  it('gateway POST /create_task/{bk_biz_id}/, and scope=project', async () => {
    const data = ok(await send(h.base, 'POST', '/create_task/1/', { body: { ...ALPHA, scope: 'project', name: 'new', pipeline } }));
    expect(data.task_id).toBe(31);
    expect(h.engine.snapshot().getTask('31')!.project.id).toBe('1');
    // the old spelling, with a client-chosen id in the path, is no route
    expect((await send(h.base, 'POST', '/create_task/12/1/', { body: { ...ALPHA, scope: 'project', name: 'new', pipeline } })).status).toBe(
      404,
    );
  });
  it('refuses a task_id field, from the body or the query string, with 3540000 and changes nothing', async () => {
    const before = h.engine.snapshot();
    for (const reply of [
      await send(h.base, 'POST', ESB('create_task'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '11', name: 'new', pipeline } }),
      await send(h.base, 'POST', '/create_task/2/', { body: { ...ALPHA, task_id: 11, name: 'new', pipeline } }),
      await send(h.base, 'POST', '/create_task/2/', { query: 'task_id=', body: { ...ALPHA, name: 'new', pipeline } }),
    ]) {
      expect(reply.json).toMatchObject({ result: false, code: 3540000, message: 'invalid task_id: is assigned by the service' });
    }
    expect(h.engine.snapshot()).toBe(before);
  });
  it('a bad definition is refused with 3540000 naming the field, and nothing is registered', async () => {
    const before = h.engine.snapshot();
    const r = await send(h.base, 'POST', '/create_task/2/', { body: { ...ALPHA, name: 'bad', pipeline: { id: 'p', kind: 'activity' } } });
    expect(r.json).toMatchObject({ result: false, code: 3540000 });
    expect(r.json!.message).toMatch(/pipeline/);
    expect(h.engine.snapshot()).toBe(before);
    // and the refused task took no id
    expect(ok(await send(h.base, 'POST', '/create_task/2/', { body: { ...ALPHA, name: 'good', pipeline } })).task_id).toBe(31);
  });
});

describe('delete_task', () => {
  it('ESB POST deletes a task that never started, answering its id and the cursor of the deletion', async () => {
    const data = ok(await send(h.base, 'POST', ESB('delete_task'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10' } }));
    expect(JSON.stringify(data)).toBe(JSON.stringify({ task_id: '10', cursor: 3 })); // after the two registrations
    expect(h.engine.snapshot().getTask('10')).toBeUndefined();
    const again = await send(h.base, 'POST', ESB('delete_task'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10' } });
    expect(again.json).toMatchObject({ result: false, code: 3540400, message: 'task 10 does not exist' });
  });
  it('gateway POST /delete_task/{task_id}/{bk_biz_id}/ deletes a FINISHED task; a running one is refused with 3545000', async () => {
    h.engine.start('10', 'root');
    const before = h.engine.snapshot();
    const refused = await send(h.base, 'POST', '/delete_task/10/2/', { body: ALPHA });
    expect(refused.json).toMatchObject({
      result: false,
      code: 3545000,
      message: 'cannot delete task 10: its root root is RUNNING, delete needs CREATED, FINISHED or REVOKED',
    });
    expect(h.engine.snapshot()).toBe(before);
    h.engine.finish('10', 'root');
    expect(ok(await send(h.base, 'POST', '/delete_task/10/2/', { body: ALPHA })).task_id).toBe('10');
    expect((await send(h.base, 'GET', '/delete_task/10/2/', { query: creds })).status).toBe(405);
  });
  it('a task of another project is answered as a missing one, and stays', async () => {
    const foreign = await send(h.base, 'POST', '/delete_task/30/2/', { body: ALPHA });
    expect(foreign.json).toMatchObject({ result: false, code: 3540400, message: 'task 30 does not exist' });
    expect(h.engine.snapshot().getTask('30')).toBeDefined();
  });
});

describe('node_event', () => {
  it('ESB POST start answers the new version; gateway POST /node_event/{task_id}/{bk_biz_id}/ fails with ex_data', async () => {
    const started = ok(
      await send(h.base, 'POST', ESB('node_event'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10', node_id: 'root', event: 'start' } }),
    );
    expect(started).toMatchObject({ node_id: 'root', state: 'RUNNING', loop: 1 });
    expect(started.version).toMatch(/^[0-9a-f]{32}$/);
    ok(await send(h.base, 'POST', '/node_event/10/2/', { body: { ...ALPHA, node_id: 'a', event: 'start' } }));
    const version = h.engine.snapshot().getNode('10', 'a')!.version;
    const failed = ok(
      await send(h.base, 'POST', '/node_event/10/2/', {
        body: { ...ALPHA, node_id: 'a', event: 'fail', ex_data: { why: 'disk full' }, version },
      }),
    );
    expect(failed).toMatchObject({ state: 'FAILED' });
    expect(h.engine.snapshot().getNode('10', 'a')!.ex_data).toEqual({ why: 'disk full' });
  });
  it('finish and reenter', async () => {
    h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    ok(await send(h.base, 'POST', '/node_event/10/2/', { body: { ...ALPHA, node_id: 'a', event: 'finish' } }));
    expect(ok(await send(h.base, 'POST', '/node_event/10/2/', { body: { ...ALPHA, node_id: 'a', event: 'reenter' } }))).toMatchObject({
      state: 'RUNNING',
      loop: 2,
    });
  });
  const refusals: [string, Record<string, unknown>, number, RegExp][] = [
    ['an unknown event', { node_id: 'a', event: 'explode' }, 3540000, /event/],
    ['ex_data on a start', { node_id: 'root', event: 'start', ex_data: 'x' }, 3540000, /ex_data/],
    ['a stale version', { node_id: 'root', event: 'start', version: 'f'.repeat(32) }, 3545000, /version/],
    ['a state the node is not in', { node_id: 'root', event: 'finish' }, 3545000, /cannot finish/],
    ['an unknown node', { node_id: 'nope', event: 'start' }, 3540400, /nope/],
    ['a missing node_id', { event: 'start' }, 3540000, /node_id/],
  ];
  for (const [what, body, code, message] of refusals) {
    it(`refuses ${what} with ${code}, changing nothing`, async () => {
      const before = h.engine.snapshot();
      const r = await send(h.base, 'POST', '/node_event/10/2/', { body: { ...ALPHA, ...body } });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ result: false, code, data: null });
      expect(r.json!.message).toMatch(message);
      expect(h.engine.snapshot()).toBe(before);
    });
  }
});

describe('routing', () => {
  it('an unknown route answers 404 with the envelope', async () => {
    for (const path of [
      '/',
      '/nope',
      ESB('nope'),
      '/get_task_status/10/',
      '/get_task_status/10/2/3/',
      '/get_task_status/x/2/',
      '//get_task_status/10/2/',
    ]) {
      const r = await send(h.base, 'GET', path, { query: creds });
      expect(r.status, path).toBe(404);
      expect(r.json, path).toMatchObject({ result: false, code: 3540400 });
      expect(Object.keys(r.json!)).toEqual(ENVELOPE_KEYS);
    }
  });
  it('a wrong method answers 405 with an Allow header', async () => {
    const cases: [string, string, string][] = [
      ['GET', ESB('operate_task'), 'POST'],
      ['PUT', ESB('get_task_status'), 'GET, HEAD, POST'],
      ['POST', '/get_task_status/10/2/', 'GET, HEAD'],
      ['GET', '/operate_node/2/10/', 'POST'],
      ['DELETE', '/healthz', 'GET, HEAD'],
      ['POST', '/watch_task_status/10/2/', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await send(h.base, method, path, { query: creds });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.allow).toBe(allow);
      expect(r.json).toMatchObject({ result: false, code: 3540000 });
    }
  });
  it('GET /healthz answers without credentials', async () => {
    const r = await send(h.base, 'GET', '/healthz');
    expect(r.json).toMatchObject({ result: true, data: { status: 'ok', tasks: 2 } });
  });
  it('GET /metrics answers the Prometheus text format', async () => {
    h.engine.start('10', 'root');
    await send(h.base, 'GET', '/get_task_status/10/2/', { query: creds });
    await send(h.base, 'GET', '/get_task_status/99/2/', { query: creds });
    const r = await send(h.base, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.text).toContain('pipestate_http_requests_total{api="get_task_status",code="0"} 1');
    expect(r.text).toContain('pipestate_http_requests_total{api="get_task_status",code="3540400"} 1');
    expect(r.text).toMatch(/pipestate_http_request_duration_seconds_bucket\{le="[^"]+",api="get_task_status"\}/);
    expect(r.text).toContain('pipestate_node_changes_total{operation="start"} 1');
    expect(r.text).toContain('pipestate_tasks 2');
    expect(r.text).toContain(`pipestate_nodes ${2 * 7}`);
  });
  it('every answer carries a request id, also as a header', async () => {
    const a = await send(h.base, 'GET', '/get_task_status/10/2/', { query: creds });
    const b = await send(h.base, 'GET', '/get_task_status/10/2/', { query: creds });
    expect(a.json!.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.json!.request_id).not.toBe(b.json!.request_id);
    expect(a.headers['x-request-id']).toBe(a.json!.request_id);
  });
});
