/** The overview routes in both spellings, and the attempt times a change event carries. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALPHA, ENVELOPE_KEYS, ESB, harness, qs, send, type Harness, type Reply } from './helpers.js';
import { watch } from './sse-client.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.close());

const creds = qs(ALPHA);
const dataOf = (reply: Reply, keys = ENVELOPE_KEYS) => {
  expect(reply.status).toBe(200);
  expect(reply.json && Object.keys(reply.json)).toEqual(keys);
  expect(reply.json).toMatchObject({ result: true, code: 0 });
  return reply.json!.data as Record<string, unknown>;
};

describe('get_task_summary', () => {
  it('ESB GET and POST, gateway GET /get_task_summary/{task_id}/{bk_biz_id}/', async () => {
    h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    h.engine.finish('10', 'a');
    const esb = dataOf(await send(h.base, 'GET', ESB('get_task_summary'), { query: `${creds}&bk_biz_id=2&task_id=10` }));
    expect(esb).toMatchObject({ id: 'root', progress: { finished: 1, total: 4 }, counts: { CREATED: 5, RUNNING: 1, FINISHED: 1 } });
    dataOf(await send(h.base, 'POST', ESB('get_task_summary'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10' } }));
    const gw = dataOf(await send(h.base, 'GET', '/get_task_summary/10/2/', { query: `${creds}&subprocess_id=sub` }));
    expect(gw).toMatchObject({ id: 'sub', progress: { finished: 0, total: 2 } });
  });
  it('a task of a project the app may not see is answered as missing', async () => {
    const reply = await send(h.base, 'GET', '/get_task_summary/30/2/', { query: creds });
    expect(reply.json).toMatchObject({ result: false, code: 3540400 });
  });
});

describe('get_task_list', () => {
  const LIST_KEYS = ['result', 'data', 'count', 'code', 'message', 'request_id', 'trace_id'];
  it('gateway GET /get_task_list/{bk_biz_id}/ answers count beside data; root_state as a comma list', async () => {
    h.engine.start('10', 'root');
    const reply = await send(h.base, 'GET', '/get_task_list/2/', { query: `${creds}&root_state=RUNNING,FAILED` });
    const data = dataOf(reply, LIST_KEYS) as unknown as { id: number; name: string }[];
    expect([data.map((t) => [t.id, t.name]), reply.json!.count]).toEqual([[[10, 'task ten']], 1]);
    const none = await send(h.base, 'GET', '/get_task_list/2/', { query: `${creds}&root_state=FINISHED&root_state=REVOKED` });
    expect([dataOf(none, LIST_KEYS), none.json!.count]).toEqual([[], 0]);
  });
  it('ESB GET and POST', async () => {
    const get = await send(h.base, 'GET', ESB('get_task_list'), { query: `${creds}&bk_biz_id=2&keyword=ten&is_started=false` });
    expect((dataOf(get, LIST_KEYS) as unknown as { id: number }[]).map((t) => t.id)).toEqual([10]);
    const post = await send(h.base, 'POST', ESB('get_task_list'), { body: { ...ALPHA, bk_biz_id: '2', is_started: true } });
    expect([dataOf(post, LIST_KEYS), post.json!.count]).toEqual([[], 0]);
  });
});

describe('get_task_nodes', () => {
  it('ESB and gateway GET /get_task_nodes/{task_id}/{bk_biz_id}/, paged', async () => {
    const first = dataOf(await send(h.base, 'GET', '/get_task_nodes/10/2/', { query: `${creds}&limit=4` }));
    expect(first).toMatchObject({ task_id: '10', total: 7, offset: 0, next_offset: 4 });
    expect((first.nodes as { id: string; kind: string; parent: number }[]).map((n) => [n.id, n.kind, n.parent])).toEqual([
      ['root', 'pipeline', -1],
      ['a', 'activity', 0],
      ['sub', 'subprocess', 0],
      ['b', 'activity', 2],
    ]);
    const rest = dataOf(
      await send(h.base, 'POST', ESB('get_task_nodes'), { body: { ...ALPHA, bk_biz_id: '2', task_id: '10', offset: 4 } }),
    );
    expect((rest.nodes as { id: string }[]).map((n) => n.id)).toEqual(['sub2', 'c', 'd']);
    expect(rest.next_offset).toBeNull();
  });
});

describe('watch_task_status change events', () => {
  it("carry the attempt's started_at and finished_at", async () => {
    const s = await watch(`${h.base}/watch_task_status/10/2/?${creds}`);
    await s.next();
    h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    h.engine.fail('10', 'a');
    h.engine.retry('10', 'a');
    const events = (await s.take(4)).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    const times = events.map((e) => [e.node_id, e.operation, e.started_at, e.finished_at]);
    const at = events.map((e) => e.at);
    expect(times).toEqual([
      ['root', 'start', at[0], null],
      ['a', 'start', at[1], null],
      ['a', 'fail', at[1], at[2]],
      ['a', 'retry', null, null],
    ]);
    s.drop();
  });
});
