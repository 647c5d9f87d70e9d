/**
 * Quotas and limits over HTTP (issue 8), on `pipestate serve` configured from a file: a project
 * over its quota is refused with 3542900 naming the quota, the limit and the project, the others
 * keep working, and delete_task gives the room back; an ex_data over the node limit is refused
 * with 3540000 naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startService, type Service } from '../../src/cli/serve.js';
import { ESB, send } from './helpers.js';

const APP = { bk_app_code: 'ops', bk_app_secret: 'ops-secret', bk_username: 'olga' };
const PIPELINE = {
  id: 'r',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 'b', kind: 'activity' },
  ],
};

let service: Service;
beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipestate-quotas-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      projects: [
        { id: '1', bk_biz_id: '2', name: 'one' },
        { id: '3', bk_biz_id: '4', name: 'three' },
      ],
      apps: [{ bk_app_code: 'ops', bk_app_secret: 'ops-secret' }],
      quotas: { default: { maxTasks: 2, maxExDataBytes: 100 }, projects: { 3: { maxTasks: 5 } } },
    }),
  );
  service = await startService({ port: 0, host: '127.0.0.1', configPath, noAuth: false, env: {}, log: () => {}, warn: () => {} });
});
afterEach(() => service.close());

const create = (biz: string) => send(service.url, 'POST', `/create_task/${biz}/`, { body: { ...APP, name: 't', pipeline: PIPELINE } });
const event = (task: unknown, node: string, ev: string, extra: Record<string, unknown> = {}) =>
  send(service.url, 'POST', ESB('node_event'), { body: { ...APP, bk_biz_id: '2', task_id: task, node_id: node, event: ev, ...extra } });

describe('quotas over HTTP', () => {
  it('create_task past maxTasks is refused with 3542900; the other project and every read keep working', async () => {
    expect((await create('2')).json!.data).toMatchObject({ task_id: 1 });
    expect((await create('2')).json!.data).toMatchObject({ task_id: 2 });
    const before = service.engine.snapshot();
    const refused = await create('2');
    expect(refused.status).toBe(200);
    expect(refused.json).toMatchObject({
      result: false,
      code: 3542900,
      data: null,
      message: 'quota maxTasks of project 1 would be exceeded: 2 of 2 in use, task 3 adds 1; delete archived tasks or raise the quota',
    });
    expect(service.engine.snapshot()).toBe(before);
    // project 3 has its own quota of 5
    expect((await create('4')).json!.data).toMatchObject({ task_id: 3 });
    const status = await send(service.url, 'GET', '/get_task_status/1/2/', { query: new URLSearchParams(APP).toString() });
    expect(status.json).toMatchObject({ result: true, data: { id: 'r', state: 'CREATED' } });
    // deleting gives the room back
    expect((await send(service.url, 'POST', '/delete_task/1/2/', { body: APP })).json).toMatchObject({
      result: true,
      data: { task_id: '1' },
    });
    expect((await create('2')).json!.data).toMatchObject({ task_id: 4 });
  });

  it('a failure whose ex_data is over the node limit is refused with 3540000; over the byte quota with 3542900', async () => {
    await create('2');
    await event(1, 'r', 'start');
    await event(1, 'a', 'start');
    await event(1, 'b', 'start');
    const tooBig = await event(1, 'a', 'fail', { ex_data: 'x'.repeat(70_000) });
    expect(tooBig.json).toMatchObject({
      code: 3540000,
      message: 'invalid ex_data: is 70002 bytes of JSON, over the limit of 65536 bytes (limits.maxNodeExDataBytes)',
    });
    expect((await event(1, 'a', 'fail', { ex_data: 'y'.repeat(58) })).json).toMatchObject({ result: true, data: { state: 'FAILED' } });
    const over = await event(1, 'b', 'fail', { ex_data: 'z'.repeat(58) });
    expect(over.json).toMatchObject({
      code: 3542900,
      message:
        'quota maxExDataBytes of project 1 would be exceeded: 60 of 100 in use, this fail of node b of task 1 adds 60 bytes; delete archived tasks or raise the quota',
    });
    expect(service.engine.snapshot().getNode('1', 'b')!.state).toBe('RUNNING');
  });
});
